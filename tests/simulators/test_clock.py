"""SimClock: sim time from the start, or from a wall-clock epoch; never backwards."""

from __future__ import annotations

import time

from simulators.clock import SimClock, sim_time_at


def test_sim_time_at() -> None:
    assert sim_time_at(1010.0, 1000.0, 60) == 600.0
    assert sim_time_at(1000.0, 1000.0, 60) == 0.0
    assert sim_time_at(990.0, 1000.0, 60) == 0.0  # before the epoch: 0, not negative


def test_without_epoch_sim_time_starts_at_zero() -> None:
    clock = SimClock(time_scale=100)
    time.sleep(0.05)
    assert 5.0 <= clock() < 50.0
    clock.restart()
    assert 0.0 <= clock() < 5.0


def test_with_epoch_sim_time_counts_from_the_epoch() -> None:
    epoch = time.time() - 10
    clock = SimClock(time_scale=60, epoch=epoch)
    before = clock()
    assert 600.0 <= before < 660.0
    clock.restart()  # no effect: the epoch, not the start, is sim time 0
    assert clock() >= before
    assert SimClock(60, epoch)() >= before  # a second clock (a restart) agrees


def test_never_goes_backwards() -> None:
    clock = SimClock(time_scale=60, epoch=time.time() - 10)
    before = clock()
    clock.epoch = time.time()  # as if the wall clock had been stepped back 10 s
    assert clock() == before
