"""Killing a real process at a chosen point, as a crash or a power cut would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from corpora import ROOT


def kill_when_it_says(script: str, arguments: Sequence[object], line: str) -> None:
    """Run `python -c script arguments...` (the project importable) until it prints `line` on
    standard output, then SIGKILL it. The script announces the point it has reached and waits
    there (reading standard input, which never ends), so nothing depends on timing."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, *map(str, arguments)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        said = process.stdout.readline().decode()
        assert said == line + "\n", f"the process said {said!r}, not {line!r}"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
