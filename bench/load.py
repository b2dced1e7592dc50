"""The load benchmark: the gateway side by side with Node-RED and a bare read loop.

    python -m bench.load --protocol modbus --machines 50,200,500 --tags 30 --runs 3

For each machine count one simulator farm and one Mosquitto serve every contender.
The contenders run one at a time, in a rotating order, `--runs` times each; every run
warms up, then measures over `--seconds`: the contender's CPU and RSS (from /proc),
the tag values that reach the broker, latencies (sample acquired -> subscriber) and
poll jitter (`bench.probe`). The table gives the median of the runs; docs/BENCHMARKS.md
explains the columns.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.bare_modbus import Lateness
from bench.contenders import Setting, contender
from bench.probe import Probe
from bench.procstat import Meter
from bench.sims import start_farm
from tests.fixtures.mosquitto import MosquittoBroker

__all__ = ["main", "rig"]


def measure(name: str, setting: Setting, probe: Probe, warmup_s: float, seconds: float) -> dict:
    """One run of one contender: start, warm up, measure, stop."""
    with contender(name, setting) as running:
        time.sleep(warmup_s)
        before = running.extra()
        probe.window()
        with Meter([running.pid]) as meter:
            time.sleep(seconds)
        seen = probe.figures()
        after = running.extra()
    row: dict[str, Any] = {
        "contender": name,
        "cpu_pct": meter.cpu_pct,
        "rss_mb": meter.rss_max / 2**20,
        **seen.summary(),
    }
    if name.startswith("bare"):  # it publishes nothing: its own count of reads, `tags` each
        if setting.load.protocol == "modbus":
            row["values_per_s"] = _rate(before, after, "requests") * setting.load.tags
        else:  # notifications: only the values that changed
            row["values_per_s"] = _rate(before, after, "values")
    if "answer_buckets" in after:  # answers in this window: later counts minus earlier
        row.update(_answer_percentiles(before.get("answer_buckets", {}), after["answer_buckets"]))
    if "outbox_records" in after:
        row["outbox_before"] = before["outbox_records"]
        row["outbox_after"] = after["outbox_records"]
    values_per_s = row["values_per_s"] or float("nan")
    row["cpu_us_per_value"] = meter.cpu_s / (values_per_s * meter.wall_s) * 1e6
    return row


def _answer_percentiles(before: dict[int, int], after: dict[int, int]) -> dict[str, float]:
    """p50/p99 of the bare loop's answer times (deadline -> answer) between two looks."""
    window = Lateness.of_buckets({k: n - before.get(k, 0) for k, n in after.items()})
    if not window.count:
        return {}
    return {"answer_p50_ms": window.percentile_ms(50), "answer_p99_ms": window.percentile_ms(99)}


def _rate(before: dict[str, float], after: dict[str, float], key: str) -> float:
    """`key` per second between two of the bare loop's stats files."""
    if key not in before or key not in after:
        return float("nan")
    dt = after["elapsed_s"] - before["elapsed_s"]
    return (after[key] - before[key]) / dt if dt > 0 else float("nan")


@contextlib.contextmanager
def rig(
    protocol: str,
    machines: int,
    tags: int,
    interval_s: float,
    workdir: Path,
    builds: dict[str, Path] | None = None,
) -> Iterator[tuple[Setting, Probe]]:
    """A simulator farm, a Mosquitto and a probe subscribed to everything: what every
    contender is given, and what measures them."""
    with start_farm(protocol, machines, tags, workdir, interval_s=interval_s) as farm:
        broker = MosquittoBroker(workdir).start()
        try:
            load_file = farm.load.dump(workdir / "load.json")
            setting = Setting(farm.load, load_file, broker.port, workdir, builds=builds or {})
            with Probe(broker.host, broker.port, "#", interval_s) as probe:
                yield setting, probe
        finally:
            broker.stop()


def bench_size(args: argparse.Namespace, machines: int, workdir: Path) -> list[dict]:
    rows: list[dict] = []
    sizes = (args.protocol, machines, args.tags, args.interval, workdir, args.build)
    with rig(*sizes) as (setting, probe):
        names = list(args.contenders)
        for run in range(args.runs):
            order = names[run % len(names) :] + names[: run % len(names)]
            for name in order:
                row = measure(name, setting, probe, args.warmup, args.seconds)
                row.update(machines=machines, run=run)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


COLUMNS = [
    ("values_per_s", "values/s", "{:,.0f}"),
    ("cpu_pct", "CPU % of a core", "{:.1f}"),
    ("cpu_us_per_value", "CPU µs/value", "{:.1f}"),
    ("rss_mb", "RSS MB", "{:.0f}"),
    ("tags_p50_ms", "tags p50 ms", "{:.1f}"),
    ("tags_p99_ms", "tags p99 ms", "{:.1f}"),
    ("event_p50_ms", "event p50 ms", "{:.1f}"),
    ("event_p99_ms", "event p99 ms", "{:.1f}"),
    ("jitter_p99_ms", "jitter p99 ms", "{:.1f}"),
    ("answer_p50_ms", "answer p50 ms", "{:.1f}"),
    ("answer_p99_ms", "answer p99 ms", "{:.1f}"),
    ("outbox_after", "outbox end", "{:.0f}"),
]


def _median(rows: list[dict], key: str) -> float:
    values = [r[key] for r in rows if isinstance(r.get(key), int | float) and r[key] == r[key]]
    return statistics.median(values) if values else float("nan")


def table(rows: list[dict], protocol: str, tags: int, interval: float) -> str:
    """Markdown: one line per machine count and contender (medians), then the ratios."""
    head = ["machines", "contender", *(c[1] for c in COLUMNS)]
    out = [
        f"{protocol}, {tags} tags per machine, every {interval:g} s; medians of "
        f"{len({r['run'] for r in rows})} runs",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    ratios = []
    for machines in sorted({r["machines"] for r in rows}):
        per = {}
        for name in dict.fromkeys(r["contender"] for r in rows):
            mine = [r for r in rows if r["machines"] == machines and r["contender"] == name]
            if not mine:
                continue
            med = {k: _median(mine, k) for k, _, _ in COLUMNS}
            per[name] = med
            cells = [fmt.format(med[k]) if med[k] == med[k] else "" for k, _, fmt in COLUMNS]
            out.append(f"| {machines} | {name} | " + " | ".join(cells) + " |")
        gw = per.get("gateway", {}).get("cpu_us_per_value")
        for other in ("nodered", "bare"):
            theirs = per.get(other, {}).get("cpu_us_per_value")
            if gw and theirs:
                ratios.append(f"- {machines} machines: gateway / {other} CPU per value = "
                              f"{gw / theirs:.2f}")  # fmt: skip
    return "\n".join(out + [""] + ratios)


def _build(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not (Path(path) / ".venv" / "bin" / "oee-edge").exists():
        raise SystemExit(f"--build {text}: want NAME=CHECKOUT, a clone with .venv/bin/oee-edge")
    return name, Path(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--protocol", choices=("modbus", "opcua"), default="modbus")
    p.add_argument("--machines", default="50,200,500", help="comma-separated counts")
    p.add_argument("--tags", type=int, default=30)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument(
        "--contenders", default=None,
        help="default: gateway,nodered,bare,bare-slots (modbus); gateway,bare (opcua)",
    )  # fmt: skip
    p.add_argument("--json", type=Path, help="also write every run's figures here")
    p.add_argument(
        "--build", action="append", default=[], metavar="NAME=CHECKOUT",
        help="another build as the contender NAME: CHECKOUT's gateway (a clone with its "
        ".venv), for an A/B of builds in one run; repeatable",
    )  # fmt: skip
    args = p.parse_args(argv)
    default = "gateway,nodered,bare,bare-slots" if args.protocol == "modbus" else "gateway,bare"
    args.contenders = (args.contenders or default).split(",")
    args.build = dict(_build(b) for b in args.build)
    args.contenders += [b for b in args.build if b not in args.contenders]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="oee-bench-") as tmp:
        for n in (int(x) for x in args.machines.split(",")):
            workdir = Path(tmp) / f"{args.protocol}-{n}"
            workdir.mkdir()
            rows += bench_size(args, n, workdir)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(table(rows, args.protocol, args.tags, args.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
