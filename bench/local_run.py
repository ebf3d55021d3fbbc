"""``python -m local.run`` (what ``make run`` executes) as a process of its own, for the benchmarks that
measure it (bench/make_run_ready.py, bench/readme_examples.py).

Started as a user would start it, with what keeps it from a developer's own: any free port (``PORT=0``;
the ready line says which), a state file in a scratch directory instead of ``.local/stack.json``, no
``AWS_*`` variable (it talks to its own moto server only). A thread reads its output line by line, so the
pipe never fills however long it runs; its last ``TAIL_LINES`` lines go into the message of any failure.
At the end Ctrl-C (SIGINT to its process group), as a user would stop it, and SIGKILL if it has not
stopped 30 s later.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from local.stack.template import ROOT

TAIL_LINES = 50
STOP_TIMEOUT_S = 30
READY = re.compile(r"\[\s*([\d.]+)s\] ready: the API is at (\S+)")
EXPORT = re.compile(r"^export RL_BASE_URL=(\S+) RL_API_KEY=(\S+) ")


@dataclass(frozen=True)
class Announcement:
    """What the process prints once its API serves."""

    ready_line_s: float  # seconds from its start to the "ready" line, as the process stamps it
    base_url: str
    api_key: str  # of the first demo account: the key of the printed examples


class LocalRun:
    """A running ``python -m local.run``, its output read as it comes."""

    def __init__(self, process: subprocess.Popen[str], started: float) -> None:
        self.process = process
        self.started = started  # time.monotonic() just before the process started
        self._lines: queue.Queue[str | None] = queue.Queue()  # None: the output ended
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._reader = threading.Thread(target=self._read, name="local-run-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._tail.append(line.rstrip("\n"))
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next_line(self, within_s: float, awaited: str = "further output") -> str:
        """The next line of output; a failure if none comes within ``within_s`` of the process's start or
        the output ends (``awaited``: what the failure says was awaited)."""
        try:
            line = self._lines.get(timeout=max(self.started + within_s - time.monotonic(), 0))
        except queue.Empty:
            raise self.failure(f"no {awaited} within {within_s:.0f} s of its start") from None
        if line is None:
            self._lines.put(None)  # ended for every later call too
            raise self.failure(f"its output ended (exit status {self.process.poll()}) before {awaited}")
        return line

    def wait_for(self, pattern: re.Pattern[str], within_s: float) -> re.Match[str]:
        """The match of the first line (from here on) that ``pattern`` matches, within ``within_s`` of the
        process's start."""
        while not (found := pattern.search(self.next_line(within_s, f"line matching {pattern.pattern!r}"))):
            pass
        return found

    def announced(self, within_s: float) -> Announcement:
        """The "ready" line's time and URL, then the key of the ``export`` line after it."""
        ready = self.wait_for(READY, within_s)
        exported = self.wait_for(EXPORT, within_s)
        return Announcement(float(ready.group(1)), ready.group(2), exported.group(2))

    def failure(self, message: str) -> RuntimeError:
        """An error saying ``message`` about the process, with its last lines of output."""
        tail = "\n".join(self._tail) or "(none)"
        return RuntimeError(f"python -m local.run: {message}; its last lines of output:\n{tail}")


@contextmanager
def local_run() -> Iterator[LocalRun]:
    """``python -m local.run`` running for the time of the ``with`` block, then stopped."""
    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
            "PORT": "0",  # any free port: the ready line says which
            "RL_LOCAL_STACK_FILE": str(Path(scratch) / "stack.json"),
        }
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "local.run"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            yield LocalRun(process, started)
        finally:
            with suppress(ProcessLookupError):  # none left if it died on its own
                os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
