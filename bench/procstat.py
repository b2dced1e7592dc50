"""CPU time and memory of processes, from /proc (Linux only).

`cpu_seconds(pid)`: user + system CPU seconds so far; `rss_bytes` / `hwm_bytes`: resident
set size now / its peak; `children(pid)`: direct child pids. `Meter(pids)` measures a
stretch of time:

    with Meter([pid]) as meter:
        time.sleep(30)
    meter.cpu_pct, meter.rss_max  # % of one core, bytes

A process that exits during a measurement counts with its last values seen.

    .venv/bin/python -m bench.procstat PID [PID ...] [--seconds 30] [--children]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

__all__ = ["Meter", "children", "cpu_seconds", "hwm_bytes", "rss_bytes"]

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used by `pid` so far (its threads included, its
    children not). Raises OSError if it is gone."""
    raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after
    # the *last* ')'. Then field 3 (state) is rest[0], utime (14) rest[11], stime rest[12].
    rest = raw[raw.rindex(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024  # "VmRSS:\t  12345 kB"
    return 0  # a zombie or kernel thread has no Vm* lines


def rss_bytes(pid: int) -> int:
    """Resident set size of `pid` now (VmRSS)."""
    return _status_kib(pid, "VmRSS")


def hwm_bytes(pid: int) -> int:
    """Peak resident set size of `pid` (VmHWM)."""
    return _status_kib(pid, "VmHWM")


def children(pid: int) -> list[int]:
    """The direct children of `pid` (of all its threads); [] if it is gone."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue  # thread gone, or a kernel without CONFIG_PROC_CHILDREN
    return sorted(set(found))


class Meter:
    """CPU used by `pids` between enter and exit, and their summed RSS sampled every
    `sample_s` in a thread."""

    def __init__(self, pids: Iterable[int], sample_s: float = 0.5) -> None:
        self.pids = list(pids)
        self.sample_s = sample_s
        self.wall_s = 0.0
        self.cpu_s = 0.0
        self.rss_samples: list[int] = []
        self._cpu: dict[int, float] = {}  # last CPU seen per pid
        self._cpu_start: dict[int, float] = {}
        self._t0 = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="procstat", daemon=True)

    def _read_cpu(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(OSError, ValueError, IndexError):  # gone: keep the last
                self._cpu[pid] = cpu_seconds(pid)

    def _sample(self) -> None:
        while not self._stop.wait(self.sample_s):
            total = 0
            for pid in self.pids:
                try:
                    total += rss_bytes(pid)
                except (OSError, ValueError):
                    continue
            self.rss_samples.append(total)
            self._read_cpu()  # so that a pid that exits keeps what it used until then

    def __enter__(self) -> Meter:
        self._read_cpu()
        self._cpu_start = dict(self._cpu)
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._read_cpu()
        self.wall_s = time.monotonic() - self._t0
        self._stop.set()
        self._thread.join()
        self.cpu_s = sum(self._cpu[p] - self._cpu_start[p] for p in self._cpu_start)

    @property
    def cpu_pct(self) -> float:
        """CPU used as % of one core."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def rss_max(self) -> int:
        return max(self.rss_samples, default=0)

    @property
    def rss_median(self) -> float:
        return statistics.median(self.rss_samples) if self.rss_samples else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "cpu_s": round(self.cpu_s, 3),
            "wall_s": round(self.wall_s, 3),
            "cpu_pct": round(self.cpu_pct, 2),
            "rss_max": self.rss_max,
            "rss_median": self.rss_median,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.procstat", description=__doc__)
    parser.add_argument("pids", nargs="+", type=int)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--children", action="store_true", help="add their direct children")
    args = parser.parse_args(argv)
    pids: list[int] = list(args.pids)
    if args.children:
        pids += [c for p in args.pids for c in children(p)]
    with Meter(pids) as meter:
        time.sleep(args.seconds)
    json.dump({"pids": pids, **meter.summary()}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
