"""The daemon's garbage collector settings (the pause they avoid: docs/BENCHMARKS.md)."""

import gc

from edge.cli.serve import GC_GEN0_THRESHOLD, tune_gc


def test_tune_gc_freezes_what_exists_and_collects_young_garbage_less_often() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == (GC_GEN0_THRESHOLD, 10, 10) == (10_000, 10, 10)
        assert gc.get_freeze_count() > 10_000  # the modules loaded so far
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
