"""Loading a model shipped in the package for ONNX Runtime on the CPU, the one way the reader and
the sentence encoder both run, and keeping one of each per process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


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


class SharedModel(Generic[T]):
    """One model for the whole process, loaded once: in a thread of its own from `warm_up()` on.

    ONNX Runtime lets go of the interpreter while it reads and prepares a model (a few tenths
    of a second each), so a process that warms its models up first reads its corpus and
    templates meanwhile, and its first answer does not wait for them one after the other.
    """

    def __init__(self, load: Callable[[], T], name: str) -> None:
        self._load = load
        self._name = name
        self._lock = threading.Lock()
        self._loading: Future[T] | None = None

    def warm_up(self) -> None:
        """Start loading the model, unless it is loaded or loading already."""
        with self._lock:
            if self._loading is not None:
                return
            loading: Future[T] = Future()
            self._loading = loading
        # Not a daemon: a process ending while ONNX Runtime prepares a model would abort.
        threading.Thread(target=self._run, args=(loading,), name=self._name).start()

    def _run(self, loading: Future[T]) -> None:
        try:
            loading.set_result(self._load())
        except BaseException as error:  # handed to whoever waits for the model
            loading.set_exception(error)

    def get(self) -> T:
        """The model, once loaded (loading it now if nobody warmed it up); what went wrong
        loading it is raised here."""
        self.warm_up()
        assert self._loading is not None
        return self._loading.result()

    def forget(self) -> None:
        """Let go of the model (once loaded): the next use loads it again, from the files as
        they are then."""
        with self._lock:
            loading, self._loading = self._loading, None
        if loading is not None:
            loading.exception()  # waits for a load under way: one model at a time
