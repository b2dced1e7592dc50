"""Normaliser checkpoints: what a restarted gateway needs to go on without a gap."""

import json
import logging
from datetime import timedelta

import pytest

from core.types import CountDelta, MachineState, SuspectCount
from edge.pipeline import checkpoint
from edge.pipeline.normaliser import MachineNormaliser
from tests.edge.pipeline.test_normaliser import T0, batch, machine


def run_a_while() -> MachineNormaliser:
    n = MachineNormaliser(machine())
    n.update(batch(0, code=1, fault=False, total=100, reject=5, reason=0, product=1))
    n.update(batch(1, code=1, fault=False, total=104, reject=6, reason=0, product=1))
    n.update(batch(2, code=4, fault=False, total=104, reject=6, reason=0, product=1))
    n.next_reason_seq()
    return n


def test_a_restored_normaliser_goes_on_where_the_saved_one_stopped() -> None:
    saved = run_a_while()
    text = checkpoint.checkpoint(saved)
    assert json.loads(text) == {
        "v": 1, "seq": 2, "count_seq": 1, "reason_seq": 1, "suspect_seq": 0,
        "decision_seq": 0, "scrap_seq": 0, "planned_seq": 0, "pending": [], "state": "setup",
        "since": 1795593602000, "at": 1795593602000,
        "counters": {
            "total": {"tag": "total", "bits": 32, "last": 104, "at": 1795593602000},
            "reject": {"tag": "reject", "bits": 16, "last": 6, "at": 1795593602000},
        },
        "advance": {"total": 1795593601000, "reject": 1795593601000},
    }  # fmt: skip
    again = MachineNormaliser(machine())
    assert checkpoint.restore(again, text) is True
    assert (again.state, again.since, again.last_ts) == (saved.state, saved.since, saved.last_ts)
    # Parts made while the gateway was down are counted at its first poll; seq goes on.
    events = again.update(batch(60, code=1, fault=False, total=130, reject=7, reason=0, product=1))
    delta, change = events
    assert delta == CountDelta("m1", delta.ts, 26, 25, 1, "1", seq=2)
    assert (change.state, change.previous, change.seq) == ("running", "setup", 3)
    assert change.duration_s == 58.0
    assert again.next_reason_seq() == 2


def test_a_counter_whose_tag_or_width_changed_starts_from_scratch() -> None:
    text = checkpoint.checkpoint(run_a_while())
    counters = {"total": {"tag": "total", "bits": 16}, "reject": {"tag": "reject", "bits": 16}}
    again = MachineNormaliser(machine(counters=counters))
    assert checkpoint.restore(again, text) is True
    assert again.counters["total"].last is None  # 32 -> 16 bits: the old baseline is void
    assert again.counters["reject"].last == 6
    # The first poll only reads the baseline of `total`: no made-up parts.
    (delta, _) = again.update(batch(9, code=1, fault=False, total=500, reject=8, reason=0))
    assert (delta.total, delta.reject, delta.seq) == (2, 2, 2)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{", "Expecting property name enclosed in double quotes"),
        ('{"v": 2}', "version 2"),
        ('{"v": 1, "seq": 1}', "no 'state'"),
    ],
)
def test_an_unreadable_checkpoint_is_ignored_and_said(
    text: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    n = MachineNormaliser(machine())
    assert checkpoint.restore(n, text) is False
    assert (n.seq, n.state, n.counters["total"].last) == (0, None, None)
    (rec,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert rec.getMessage().startswith("checkpoint of m1 ignored (")
    assert why in rec.getMessage() and rec.getMessage().endswith("its seq starts again at 1")


def test_a_bad_value_leaves_the_normaliser_untouched() -> None:
    good = json.loads(checkpoint.checkpoint(run_a_while()))
    n = MachineNormaliser(machine())
    assert checkpoint.restore(n, json.dumps({**good, "state": "exploded"})) is False
    assert (n.seq, n.count_seq, n.state) == (0, 0, None)


def test_go_offline_marks_the_time_the_state_became_unknown() -> None:
    n = run_a_while()
    change = n.go_offline(T0.replace(second=9, microsecond=123456))
    assert change is not None and change.state is MachineState.OFFLINE
    assert n.last_ts == change.ts == T0.replace(second=9, microsecond=123000)
    assert json.loads(checkpoint.checkpoint(n))["state"] == "offline"


def is_count(e: object) -> bool:
    return isinstance(e, CountDelta | SuspectCount)


def test_held_suspect_counts_and_reading_times_survive_a_restart() -> None:
    n = run_a_while()
    (held,) = [e for e in n.update(batch(3, code=1, total=9104, reject=6)) if is_count(e)]
    assert isinstance(held, SuspectCount) and held.total == 9000
    n.next_decision_seq()
    n.next_scrap_seq(), n.next_scrap_seq(), n.next_planned_seq()
    again = MachineNormaliser(machine())
    assert checkpoint.restore(again, checkpoint.checkpoint(n)) is True
    assert again.pending == {1: held} and (again.suspect_seq, again.decision_seq) == (1, 1)
    assert (again.scrap_seq, again.planned_seq) == (2, 1)
    assert again.counters["total"].at == held.ts
    # Judged against the time since the restored reading: 10 parts in 10 s pass.
    (delta,) = [e for e in again.update(batch(13, code=1, total=9114, reject=6)) if is_count(e)]
    assert (delta.total, delta.good, delta.reject) == (10, 10, 0)


def test_a_checkpoint_without_reading_times_dates_them_at_its_last_change() -> None:
    """Checkpoints written before issue 15 have no `at` per counter nor suspects."""
    old = json.loads(checkpoint.checkpoint(run_a_while()))
    for key in ("suspect_seq", "decision_seq", "scrap_seq", "planned_seq", "pending"):
        del old[key]
    for c in old["counters"].values():
        del c["at"]
    again = MachineNormaliser(machine())
    assert checkpoint.restore(again, json.dumps(old)) is True
    assert again.counters["total"].at == T0 + timedelta(seconds=2) and again.pending == {}
