"""The SPC benchmark measures what docs/BENCHMARKS.md says it does: every reading reaches
a chart, the points come out (I-MR one a reading, X̄-R n 5 one per 5), half the charts are
frozen after the warm-up and every chart has limits, and the chartless machine of the
A/B is skipped by the gateway's sampler lookup."""

from __future__ import annotations

from pathlib import Path

from bench.spc_engine import BASELINE, Feeder, build_config, run_engine, warm_up
from edge.pipeline.gateway import Gateway


def test_every_reading_reaches_a_chart_and_makes_its_points() -> None:
    run = run_engine(build_config(2, "mix"), 10, seed=0)
    # 2 machines x 5 tags x 10 s; per machine 2 I-MR x 10 points + 3 X̄-R x 10/5 points
    assert (run.readings, run.points) == (100, 2 * (2 * 10 + 3 * 2))
    # one retained chart state per chart per publication (1 in 10 s) + each violation
    assert run.records == 10 + run.violations


def test_after_the_warm_up_every_chart_has_limits_and_half_are_frozen() -> None:
    f = Feeder(build_config(2, "mix"), seed=0)
    warm_up(f, 6 * BASELINE + 10, 10)
    views = f.engine.charts()
    assert all(v.limits is not None for v in views)
    assert [v.phase for v in views] == ["II", "II", "I", "I"] * 2 + ["II", "II"]


def test_the_chartless_machine_is_skipped_by_one_lookup(tmp_path: Path) -> None:
    gw = Gateway(build_config(2, "mix", plain=1, data_dir=str(tmp_path)), sinks=[])
    assert gw.spc.machines == {"m000", "m001"} and "p000" not in gw._samplers
    bare = Gateway(build_config(2, None, plain=1, data_dir=str(tmp_path)), sinks=[])
    assert bare.spc.machines == frozenset() and bare._samplers == {}
