"""`articlebot cluster` without Discord: how the supervisor restarts, gives up and stops, on
real processes that play the part of `articlebot run` (a few lines of Python that exit or wait
as told)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from bot.cluster import Backoff, Cluster, ShardProcess

# Waits for SIGTERM, then exits 0: an `articlebot run` that serves until told to stop.
SERVES = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(60)
    """
)


def exits(status: int) -> str:
    """A process that ends at once with `status`."""
    return f"import sys; sys.exit({status})"


class ScriptedCluster(Cluster):
    """The real supervisor, each of whose processes runs a script instead of `articlebot run`."""

    def __init__(self, scripts: list[str], **options: object) -> None:
        super().__init__(len(scripts), len(scripts), **options)  # type: ignore[arg-type]
        self.scripts = scripts

    def command(self, member: ShardProcess) -> list[str]:
        return [sys.executable, "-c", self.scripts[member.number - 1]]


def restart_delays(caplog: pytest.LogCaptureFixture, number: int) -> list[float]:
    """The delays the supervisor announced before starting process `number` again."""
    pattern = rf"process {number} .* starting it again in ([\d.]+) s"
    return [float(m[1]) for r in caplog.records if (m := re.search(pattern, r.getMessage()))]


def starts(caplog: pytest.LogCaptureFixture, number: int) -> int:
    return sum(
        f"process {number} (" in r.getMessage() and "started" in r.getMessage()
        for r in caplog.records
    )


def test_backoff_doubles_up_to_its_cap_and_starts_over_when_reset() -> None:
    backoff = Backoff(first=1.0, cap=5.0)
    assert [backoff.delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.delay() == 1.0


async def test_a_process_dying_at_once_again_and_again_is_restarted_later_each_time_then_given_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cluster")
    cluster = ScriptedCluster(
        [exits(3), SERVES], first_delay=0.01, max_delay=0.04, max_quick_failures=3
    )
    assert await asyncio.wait_for(cluster.run(), timeout=30) == 1
    assert restart_delays(caplog, 1) == [0.01, 0.02, 0.04]
    assert starts(caplog, 1) == 4
    messages = [r.getMessage() for r in caplog.records]
    assert any("exited with status 3, 4 times in a row" in m for m in messages)
    # The healthy process was stopped cleanly with the rest of the cluster.
    assert "process 2 (shard 1 of 2) stopped" in messages
    assert messages[-1] == "all processes stopped"


async def test_a_process_refusing_its_settings_stops_the_cluster_without_restarting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cluster")
    cluster = ScriptedCluster([exits(2), SERVES], first_delay=0.01)
    assert await asyncio.wait_for(cluster.run(), timeout=30) == 2
    assert starts(caplog, 1) == 1 and restart_delays(caplog, 1) == []
    assert any("refused its settings" in r.getMessage() for r in caplog.records)


async def test_a_process_that_ran_long_enough_is_restarted_as_quickly_as_the_first_time(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="bot.cluster")
    runs = tmp_path / "runs"
    # Dies on its first four runs, then serves; every run counts as long enough to be stable.
    script = textwrap.dedent(
        f"""
        import pathlib, signal, sys, time
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        runs = pathlib.Path({str(runs)!r})
        runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
        if len(runs.read_text()) <= 4:
            sys.exit(1)
        while True:
            time.sleep(60)
        """
    )
    cluster = ScriptedCluster([script], first_delay=0.01, stable_seconds=0.0, max_quick_failures=1)
    running = asyncio.create_task(cluster.run())
    async with asyncio.timeout(30):
        while not (runs.exists() and len(runs.read_text()) == 5):
            await asyncio.sleep(0.01)
    cluster.stop()
    assert await asyncio.wait_for(running, timeout=30) == 0
    assert restart_delays(caplog, 1) == [0.01] * 4
    assert "process 1 (shard 0 of 1) stopped" in [r.getMessage() for r in caplog.records]


# The real supervisor in a process of its own, its two processes serving until told to stop.
SUPERVISOR = textwrap.dedent(
    """
    import asyncio, logging, sys
    from bot.cluster import Cluster

    class Serving(Cluster):
        def command(self, member):
            return [sys.executable, "-c", sys.argv[1]]

    logging.basicConfig(level=logging.INFO)
    asyncio.run(Serving(2, 2).run())
    """
)


def ended(pid: int) -> bool:
    """Whether the process is gone, or dead and waiting only to be reaped by whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal")
async def test_the_processes_stop_when_the_supervisor_is_killed_with_sigkill() -> None:
    supervisor = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SUPERVISOR, SERVES, stderr=asyncio.subprocess.PIPE
    )
    assert supervisor.stderr is not None
    children: list[int] = []
    try:
        async with asyncio.timeout(30):
            while len(children) < 2:
                line = (await supervisor.stderr.readline()).decode()
                assert line, "the supervisor ended before starting its processes"
                if found := re.search(r"started, pid (\d+)", line):
                    children.append(int(found[1]))
        supervisor.kill()
        async with asyncio.timeout(30):
            while not all(ended(pid) for pid in children):
                await asyncio.sleep(0.05)
    finally:
        for pid in children:
            if not ended(pid):  # the test failed: nothing is left running
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            supervisor.kill()
        # Only now: its standard error stays open while any process it started runs.
        await supervisor.wait()
