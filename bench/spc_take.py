"""What a machine WITHOUT a chart pays for SPC: `Gateway.take` (edge/pipeline/gateway.py)
of such a machine's batches, in a config without an `spc` section (A) and in the same
config with 1,000 charts on other machines (B), A and B alternated in one process.

The gateway is the real one (`Gateway(config, sinks=[])`: no outbox, so only the
pipeline is timed: normaliser, engines, live view, observers); the machine is running,
makes a part a second (a `CountDelta` per batch, which every engine's `apply` and every
observer sees) and sends 8 tags a poll. Its batches are made before the clock starts.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta

from bench.spc_engine import T0, batches, build_config
from core.types import CountDelta
from edge.config import Config
from edge.pipeline.gateway import Gateway

__all__ = ["TakeResult", "run_take", "spc_calls"]

PLAIN = "p000"  # the machine without a chart


@dataclass(frozen=True)
class TakeResult:
    """µs per `Gateway.take` of the chartless machine: medians of the runs."""

    without_spc: float  # A: no `spc` section
    with_spc: float  # B: 1,000 charts on other machines
    runs: int
    batches: int
    spread_a: tuple[float, float]  # the fastest and slowest run of each
    spread_b: tuple[float, float]


def _time_take(config: Config, count: int, seed: int) -> float:
    """µs per `take` of `count` batches of the chartless machine."""
    gw = Gateway(config, sinks=[], clock=lambda: T0)
    normaliser = gw.normalisers[PLAIN]
    data = batches(PLAIN, 0, count, random.Random(seed))

    async def go() -> float:
        await gw.take(normaliser, data[0])  # the first batch sets the counters' base
        start = time.thread_time()
        for b in data[1:]:
            await gw.take(normaliser, b)
        return (time.thread_time() - start) / (count - 1) * 1e6

    return asyncio.run(go())


def run_take(machines: int, runs: int, count: int = 5000) -> TakeResult:
    """A and B alternated `runs` times (same machines, same batches)."""
    with tempfile.TemporaryDirectory() as tmp:
        a = build_config(machines, None, plain=1, data_dir=tmp)
        b = build_config(machines, "mix", plain=1, data_dir=tmp)
        times_a, times_b = [], []
        for seed in range(runs):
            times_a.append(_time_take(a, count, seed))
            times_b.append(_time_take(b, count, seed))
    return TakeResult(
        statistics.median(times_a), statistics.median(times_b), runs, count,
        (min(times_a), max(times_a)), (min(times_b), max(times_b)),
    )  # fmt: skip


def spc_calls(machines: int, count: int = 200_000) -> tuple[float, float, float]:
    """ns per call of what the SPC engine does for a chartless machine's events (B):
    `apply` of its CountDelta, `observe` of the emit holding it, and the gateway's
    `batch.machine in self._samplers` lookup."""
    with tempfile.TemporaryDirectory() as tmp:
        gw = Gateway(build_config(machines, "mix", plain=1, data_dir=tmp), sinks=[])
    spc, samplers = gw.spc, gw._samplers
    delta = CountDelta(PLAIN, T0 + timedelta(seconds=1), 1, 1, 0, seq=1)
    emitted = [delta]
    out = []
    for call in (
        lambda: spc.apply(delta),
        lambda: spc.observe(emitted),
        lambda: PLAIN in samplers,
        lambda: None,  # the loop and the call themselves, taken off the others
    ):
        start = time.thread_time()
        for _ in range(count):
            call()
        out.append((time.thread_time() - start) / count * 1e9)
    empty = out.pop()
    return out[0] - empty, out[1] - empty, out[2] - empty
