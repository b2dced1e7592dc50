"""What SPC costs per point at 1,000 charts, three ways (`--part`, default all):

- `stats`: the pure side, judge + RuleTracker.add + Moments.add (below);
- `engine`: the gateway's side, `SpcEngine` fed real batches, its publications drained,
  checkpointed and encoded for MQTT (bench/spc_engine.py);
- `take`: what a machine without a chart pays, `Gateway.take` with and without an `spc`
  section (bench/spc_take.py).

`stats`: each chart has frozen limits, a run-rule tracker with every rule on (Western Electric 1-4
and Nelson 1-8) and capability running sums. Every simulated second each chart takes one
subgroup (X̄-R charts: 5 readings; I-MR charts: 1), generated beforehand from a fixed seed
so that only the statistics are timed. The result: µs per point (median of `--runs`) and
the share of one core that 1,000 charts updated every second take.

Every part times CPU seconds of its thread (`time.thread_time`), not the wall clock: on a
box shared with other work, time spent waiting for a core is not the benchmark's cost.

    .venv/bin/python -m bench.spc [--part stats,engine,take] [--charts 1000] [--seconds 60]
        [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.spc_engine import build_config, run_engine
from bench.spc_take import run_take, spc_calls
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
    start = time.thread_time()
    for s in range(seconds):  # as the engine sees it: every chart, every second
        for c in range(charts):
            sub = data[c][s]
            point = judge(kind, sub, limits, previous[c])  # type: ignore[arg-type]
            trackers[c].add(s + 1, point)
            moments[c].add(sub)
            previous[c] = sub
    return (time.thread_time() - start) / (charts * seconds) * 1e6


def stats_part(args: argparse.Namespace) -> None:
    print(f"\n### stats: {args.charts} charts x {args.seconds} s, all 12 rules on\n")
    print("| chart | µs per point | share of one core at 1 point/s per chart |")
    print("| --- | ---: | ---: |")
    for kind in ("imr", "xbar_r"):
        us = statistics.median(
            run(kind, args.charts, args.seconds, seed) for seed in range(args.runs)
        )
        print(f"| {kind} | {us:.1f} | {us * args.charts / 1e6:.1%} |")


def engine_part(args: argparse.Namespace) -> None:
    machines = args.charts // 5
    print(f"\n### engine: {machines} machines x 5 charts x {args.seconds} s, published every "
          "10 s, half the charts frozen, every other chart all 12 rules\n")  # fmt: skip
    print(
        "| charts (mix) | readings/s | points/s | µs per reading | µs per point | ingest µs/pt "
        "| publish µs/pt | MQTT encode µs/pt | violations/s | records/s | one core |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mix in ("imr", "mix", "xbar_r"):
        config = build_config(machines, mix)
        runs = sorted((run_engine(config, args.seconds, seed) for seed in range(args.runs)),
                      key=lambda r: r.total_s)  # fmt: skip
        r, s = runs[len(runs) // 2], args.seconds  # the median run by total time
        per_pt = 1e6 / r.points
        print(f"| {mix} | {r.readings / s:.0f} | {r.points / s:.0f} "
              f"| {r.total_s / r.readings * 1e6:.1f} | {r.total_s * per_pt:.1f} "
              f"| {r.ingest_s * per_pt:.1f} | {r.publish_s * per_pt:.1f} "
              f"| {r.encode_s * per_pt:.1f} | {r.violations / s:.0f} | {r.records / s:.0f} "
              f"| {r.total_s / s:.1%} |")  # fmt: skip


def take_part(args: argparse.Namespace) -> None:
    machines = args.charts // 5
    t = run_take(machines, args.runs)
    print(
        f"\n### take: a machine without a chart, {t.batches} batches, A/B alternated, "
        f"median of {t.runs}\n"
    )
    print("| config | µs per Gateway.take | fastest..slowest run |")
    print("| --- | ---: | ---: |")
    a, b = t.spread_a, t.spread_b
    print(
        f"| A: no `spc` section ({machines + 1} machines) | {t.without_spc:.1f} "
        f"| {a[0]:.1f}..{a[1]:.1f} |"
    )
    print(
        f"| B: {args.charts} charts on the other {machines} machines | {t.with_spc:.1f} "
        f"| {b[0]:.1f}..{b[1]:.1f} |"
    )
    print(f"| B − A | {t.with_spc - t.without_spc:+.1f} | |")  # fmt: skip
    apply_ns, observe_ns, lookup_ns = spc_calls(machines)
    print(
        f"\nIn B, per event of that machine: SpcEngine.apply {apply_ns:.0f} ns, "
        f"SpcEngine.observe of a one-event emit {observe_ns:.0f} ns, the gateway's "
        f"samplers lookup {lookup_ns:.0f} ns."
    )


PARTS = {"stats": stats_part, "engine": engine_part, "take": take_part}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="stats,engine,take", help="stats, engine, take")
    parser.add_argument("--charts", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    parts = args.part.split(",")
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"--part: unknown {unknown}; choose from {', '.join(PARTS)}")
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"median of {args.runs} runs, load average before {_load()}")  # fmt: skip
    for part in parts:
        PARTS[part](args)
    print(f"\nload average after {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
