"""How the OEE engine's cost grows with the events its windows hold.

For N events in the last 8 h (15m, 1h, 8h, shift and day windows; a three-shift calendar
with a break), it times feeding 2,000 more events at the same rate (state changes and
counts, as a machine sends them) and, separately, asking every window for its figures
after each one. The
baseline, in the same run, recomputes the same 8 h window from the stored intervals for
each event (`oee.compute`, what a store-backed recomputation costs). Medians of
`--repeat` runs; the result is a Markdown table.

    .venv/bin/python -m bench.oee_tracker [--sizes 1000,10000,100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as wall

from oee import (
    Break,
    Calendar,
    MachineState,
    MachineTracker,
    Production,
    Shift,
    Transition,
    WindowSpec,
    compute,
)

CALENDAR = Calendar(
    "Europe/Berlin",
    shifts=(
        Shift("early", wall(6), wall(14)),
        Shift("late", wall(14), wall(22)),
        Shift("night", wall(22), wall(6)),
    ),
    breaks=(Break("lunch", wall(11, 30), wall(12)),),
    day_start=wall(6),
)
WINDOWS = [
    WindowSpec("15m", "sliding", 900),
    WindowSpec("1h", "sliding", 3600),
    WindowSpec("8h", "sliding", 28800),
    WindowSpec("shift", "shift"),
    WindowSpec("day", "day"),
]
CYCLE = [MachineState.RUNNING, MachineState.IDLE, MachineState.RUNNING, MachineState.FAULT]
END = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 21:00 Berlin: late shift, long day
MEASURED = 2000
BASELINE = 200  # the baseline is slow: fewer events, scaled per event


def events(n: int, total: int) -> list[tuple[datetime, int]]:
    """`total` instants, evenly spaced so that `n` of them span 8 h, ending at END: the
    first `total - n` fill the windows, the rest are timed at the same steady density, so
    each timed event also pays for the events that slide out of the windows meanwhile."""
    step = timedelta(hours=8) / n
    return [(END - (total - i) * step, i) for i in range(total)]


def feed(t: MachineTracker, at: datetime, i: int) -> None:
    if i % 2:
        t.count(at, 3, 2, 2.0)
    else:
        t.state(at, CYCLE[(i // 2) % len(CYCLE)], 7 if i % 8 == 6 else None)


def tracker_us(n: int) -> tuple[float, float]:
    """µs per event fed, and µs per report of all five windows (the gateway reports on
    each tick of `publish_interval_s`, not on each event)."""
    t = MachineTracker(WINDOWS, calendar=CALENDAR, micro_stop_s=5)
    every = events(n, n + MEASURED)
    for at, i in every[:n]:
        feed(t, at, i)
    t.reports(every[n - 1][0])  # the windows drop what slid out during the fill, once
    fed = reported = 0
    for at, i in every[n:]:
        t0 = time.perf_counter_ns()
        feed(t, at, i)
        t1 = time.perf_counter_ns()
        t.reports(at)
        fed, reported = fed + t1 - t0, reported + time.perf_counter_ns() - t1
    return fed / MEASURED / 1000, reported / MEASURED / 1000


def baseline_us(n: int) -> float:
    """µs per event when the 8 h window is recomputed from all its intervals each time."""
    transitions: list[Transition] = []
    productions: list[Production] = []
    every = events(n, n + BASELINE)
    for at, i in every[:n]:
        if i % 2:
            productions.append(Production(at, 3, 2, 1, 2.0))
        else:
            transitions.append(Transition(at, CYCLE[(i // 2) % len(CYCLE)]))
    start = time.perf_counter_ns()
    for at, i in every[n:]:
        transitions.append(Transition(at, CYCLE[(i // 2) % len(CYCLE)]))
        compute(transitions, productions, start=at - timedelta(hours=8), end=at,
                calendar=CALENDAR, micro_stop_s=5)  # fmt: skip
    return (time.perf_counter_ns() - start) / BASELINE / 1000


def median(fn: object, n: int, repeat: int) -> float:
    return statistics.median(fn(n) for _ in range(repeat))  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--baseline-max", type=int, default=10000, help="no baseline above this (O(n) per event)"
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"median of {args.repeat} runs\n")  # fmt: skip
    print("| events in the windows | feed µs/event | report µs (5 windows) "
          "| recompute 8 h µs/event | recompute / (feed + report) |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: |")
    first = last = 0.0
    for n in sizes:
        runs = [tracker_us(n) for _ in range(args.repeat)]
        feed_us = statistics.median(r[0] for r in runs)
        report_us = statistics.median(r[1] for r in runs)
        first, last = first or feed_us + report_us, feed_us + report_us
        row = f"| {n:,} | {feed_us:.1f} | {report_us:.1f} |"
        if n <= args.baseline_max:
            base = median(baseline_us, n, args.repeat)
            print(f"{row} {base:,.0f} | {base / last:,.0f}× |")
        else:
            print(f"{row} (skipped) | |")
    print(f"\nfeed + report at {sizes[-1]:,} events / at {sizes[0]:,}: {last / first:.2f}")


if __name__ == "__main__":
    main()
