"""Memory over time: the gateway alone under a steady load for an hour (or `--minutes`).

    python -m bench.memory --machines 500 --tags 30 --minutes 60

One simulator farm, one Mosquitto (a subscriber to `#` reads everything, as the load
benchmark's probe does) and `oee-edge run` with the load benchmark's configuration.
Every `--every` seconds it records the gateway's RSS, its CPU share since the last
sample, the outbox depth and the size of its data directory. It prints a Markdown table
(one row per `--rows` of the run) and the RSS growth per minute over each half: a
gateway whose memory is bounded grows in the first half (the sliding windows fill) and
stays flat in the second. `--json FILE` keeps every sample.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.contenders import CONTENDERS
from bench.load import rig
from bench.procstat import cpu_seconds, hwm_bytes, rss_bytes

__all__ = ["Sample", "growth_mb_per_min", "main"]


@dataclass(frozen=True)
class Sample:
    """One look at the gateway, `minute` minutes after it started measuring."""

    minute: float
    rss_mb: float
    cpu_pct: float
    outbox_records: float
    data_mb: float


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def growth_mb_per_min(samples: list[Sample]) -> float:
    """The least-squares slope of RSS against time, MB a minute (nan below 2 samples)."""
    if len(samples) < 2:
        return float("nan")
    n = len(samples)
    mean_t = sum(s.minute for s in samples) / n
    mean_r = sum(s.rss_mb for s in samples) / n
    var = sum((s.minute - mean_t) ** 2 for s in samples)
    cov = sum((s.minute - mean_t) * (s.rss_mb - mean_r) for s in samples)
    return cov / var if var else float("nan")


def record(
    pid: int, extra: Callable[[], dict[str, Any]], data: Path, minutes: float, every_s: float
) -> list[Sample]:
    """Sample the gateway `pid` every `every_s` seconds for `minutes` minutes."""
    samples: list[Sample] = []
    start = time.monotonic()
    last_t, last_cpu = start, cpu_seconds(pid)
    while (now := time.monotonic()) - start < minutes * 60:
        time.sleep(max(0.0, every_s - (now - start) % every_s))
        t, cpu = time.monotonic(), cpu_seconds(pid)
        sample = Sample(
            minute=(t - start) / 60,
            rss_mb=rss_bytes(pid) / 2**20,
            cpu_pct=100 * (cpu - last_cpu) / (t - last_t),
            outbox_records=extra().get("outbox_records", float("nan")),
            data_mb=_dir_mb(data),
        )
        last_t, last_cpu = t, cpu
        samples.append(sample)
        print(json.dumps(asdict(sample)), file=sys.stderr, flush=True)
    return samples


def table(samples: list[Sample], rows: int, peak_mb: float) -> str:
    """Markdown: `rows` evenly spaced samples, then the growth per half and the peak."""
    step = max(1, len(samples) // rows)
    picked = samples[step - 1 :: step]
    out = [
        "| minute | RSS MB | CPU % of a core | outbox records | data dir MB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for s in picked:
        out.append(
            f"| {s.minute:.1f} | {s.rss_mb:.1f} | {s.cpu_pct:.1f} | "
            f"{s.outbox_records:.0f} | {s.data_mb:.0f} |"
        )
    half = len(samples) // 2
    out += [
        "",
        f"RSS growth: first half {growth_mb_per_min(samples[:half]):+.3f} MB/min, "
        f"second half {growth_mb_per_min(samples[half:]):+.3f} MB/min; "
        f"peak (VmHWM) {peak_mb:.1f} MB",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n")[0])
    p.add_argument("--protocol", choices=("modbus", "opcua"), default="modbus")
    p.add_argument("--machines", type=int, default=500)
    p.add_argument("--tags", type=int, default=30)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    p.add_argument("--rows", type=int, default=12, help="table rows")
    p.add_argument("--json", type=Path, help="also write every sample here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="oee-bench-mem-") as tmp:
        workdir = Path(tmp)
        with (
            rig(args.protocol, args.machines, args.tags, args.interval, workdir) as (setting, _),
            CONTENDERS["gateway"](setting) as gw,
        ):
            samples = record(gw.pid, gw.extra, workdir / "gateway-data", args.minutes, args.every)
            peak_mb = hwm_bytes(gw.pid) / 2**20
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in samples], indent=1))
    print(
        f"{args.protocol}, {args.machines} machines x {args.tags} tags every "
        f"{args.interval:g} s, {args.minutes:g} minutes, a sample every {args.every:g} s\n"
    )
    print(table(samples, args.rows, peak_mb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
