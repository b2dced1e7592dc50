"""How the first connection attempts of many machines went, told once at start-up.

On a terminal, a single line updates in place (`connecting: 37/200 machines (35 ok,
2 failed)`) and log records printed meanwhile do not tear it apart (`edge.logs.statusline`); when
every machine has had its first attempt it makes way for one INFO line, which is all a
non-terminal stderr (journald, a file, a pipe) gets: `connected 198/200 machines in
2.3 s; failed: m17 (...), m42 (...)`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

from edge.logs.logfmt import json_logging
from edge.logs.statusline import StatusLine

__all__ = ["FirstConnects"]

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.progress")

MAX_LISTED = 10  # failed machines named in the summary; the rest are counted


class FirstConnects:
    """Counts the machines whose first connection attempt is over, ok or failed.

    `attempted` is called once per machine (later calls are ignored), by the pipeline,
    with the outcome of the source's first batch. `tty` (default: stderr is a terminal
    and the logs are not JSON) selects the updating line.
    """

    def __init__(
        self,
        machines: int,
        *,
        tty: bool | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.machines = machines
        self.ok = 0
        self.failed: dict[str, str] = {}
        self._seen: set[str] = set()
        self._clock = clock
        self._started = clock()
        stream = stream if stream is not None else sys.stderr
        self._line = StatusLine(stream) if (_interactive(stream) if tty is None else tty) else None

    def start(self) -> None:
        """The attempts begin now (the summary's duration counts from here)."""
        self._started = self._clock()
        if self._line is not None:
            self._line.show(self.progress())

    @property
    def done(self) -> bool:
        return len(self._seen) >= self.machines

    def attempted(self, machine: str, connected: bool, error: str | None) -> None:
        """`machine`'s first attempt is over: `connected`, or failed with `error`."""
        if machine in self._seen or self.done:
            return
        self._seen.add(machine)
        if connected:
            self.ok += 1
        else:
            self.failed[machine] = error or "not connected"
        if self._line is not None:
            self._line.show(self.progress())
        if self.done:
            if self._line is not None:
                self._line.close()
            log.info("%s", self.summary())

    def progress(self) -> str:
        n = len(self._seen)
        return f"connecting: {n}/{self.machines} machines ({self.ok} ok, {len(self.failed)} failed)"

    def summary(self) -> str:
        elapsed = self._clock() - self._started
        text = f"connected {self.ok}/{self.machines} machines in {elapsed:.1f} s"
        if not self.failed:
            return text
        # By id, so the same failures read the same whatever order they came in.
        listed = [f"{m} ({self.failed[m]})" for m in sorted(self.failed)[:MAX_LISTED]]
        more = len(self.failed) - len(listed)
        return f"{text}; failed: {', '.join(listed)}" + (f" and {more} more" if more else "")


def _interactive(stream: TextIO) -> bool:
    try:
        return stream.isatty() and not json_logging()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
