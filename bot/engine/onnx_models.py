"""Loading a model shipped in the package for ONNX Runtime on the CPU, the one way the reader and
the sentence encoder both run."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(model_file: Path) -> Any:
    """An inference session on one CPU thread: the same arithmetic in the same order every
    time, and the other core free for the bot's event loop. Raises whatever ONNX Runtime raises
    for a missing or broken file."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(
        str(model_file), options, providers=["CPUExecutionProvider"]
    )
