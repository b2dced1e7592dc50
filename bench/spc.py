"""What SPC costs per point: judge + RuleTracker.add + Moments.add, at 1,000 charts.

Each chart has frozen limits, a run-rule tracker with every rule on (Western Electric 1-4
and Nelson 1-8) and capability running sums. Every simulated second each chart takes one
subgroup (X̄-R charts: 5 readings; I-MR charts: 1), generated beforehand from a fixed seed
so that only the statistics are timed. The result: µs per point (median of `--runs`) and
the share of one core that 1,000 charts updated every second take.

    .venv/bin/python -m bench.spc [--charts 1000] [--seconds 60] [--runs 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from oee.spc import Moments, RuleSet, RuleTracker, Spec, Subgroup, compute_limits, judge

ALL_RULES = RuleSet(frozenset({1, 2, 3, 4}), frozenset(range(1, 9)))
T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def series(kind: str, seconds: int, rng: random.Random) -> list[Subgroup]:
    size = 5 if kind == "xbar_r" else 1
    return [
        Subgroup(ts=T0 + timedelta(seconds=s), values=tuple(rng.gauss(500, 2) for _ in range(size)))
        for s in range(seconds)
    ]


def run(kind: str, charts: int, seconds: int, seed: int) -> float:
    """µs per point over `charts` charts of `kind` fed for `seconds`."""
    rng = random.Random(seed)
    limits = compute_limits(kind, series(kind, 25, rng))  # type: ignore[arg-type]
    data = [series(kind, seconds, rng) for _ in range(charts)]
    trackers = [RuleTracker(ALL_RULES) for _ in range(charts)]
    moments = [Moments(kind, Spec(490, 510, 500)) for _ in range(charts)]  # type: ignore[arg-type]
    previous: list[Subgroup | None] = [None] * charts
    start = time.perf_counter()
    for s in range(seconds):  # as the engine sees it: every chart, every second
        for c in range(charts):
            sub = data[c][s]
            point = judge(kind, sub, limits, previous[c])  # type: ignore[arg-type]
            trackers[c].add(s + 1, point)
            moments[c].add(sub)
            previous[c] = sub
    return (time.perf_counter() - start) / (charts * seconds) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.machine()}, median of {args.runs} runs, "
          f"{args.charts} charts x {args.seconds} s, all 12 rules on\n")  # fmt: skip
    print("| chart | µs per point | share of one core at 1 point/s per chart |")
    print("| --- | ---: | ---: |")
    for kind in ("imr", "xbar_r"):
        us = statistics.median(
            run(kind, args.charts, args.seconds, seed) for seed in range(args.runs)
        )
        print(f"| {kind} | {us:.1f} | {us * args.charts / 1e6:.1%} |")


if __name__ == "__main__":
    main()
