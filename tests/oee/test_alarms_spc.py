"""The `spc` alarm rule (oee.alarms.SpcRule): raised at the instant of the run rule's
violation, cleared at the `clear_after`-th point in a row without a matching one, the
rule and chart filters, trial limits named, and no verdict after a restart until the
charts are seen in control. Points are one a minute from 10:00 (seq 1 at 10:01); the
counts of points are counted by hand from the seqs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oee.alarms import MachineView, SpcRule, transitions
from oee.spcwatch import SpcHit, SpcTrack

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
WE2 = "2 of 3 beyond 2σ on one side"
ANY = SpcRule("spc", "warning")


def at(seq: int) -> datetime:
    """Point `seq`'s time: one point a minute."""
    return T0 + timedelta(minutes=seq)


def view(*charts: str) -> MachineView:
    v = MachineView("Filler 1")
    for c in charts:
        v.spc[c] = SpcTrack("Filler 1 fill weight" if c == "weight" else c, "g")
    return v


def point(v: MachineView, chart: str, seq: int, *hits: tuple[str, str, float]) -> None:
    """Point `seq` of `chart`, with the run rules it completed (rule, name, value)."""
    track = v.spc[chart]
    track.saw(seq)
    track.hits.extend(SpcHit(seq, at(seq), r, n, x) for r, n, x in hits)


def test_raised_at_the_violation_with_the_rule_named() -> None:
    v = view("weight")
    for seq in range(1, 6):
        point(v, "weight", seq)
    assert transitions([ANY], v, {}, at(5)) == []
    point(v, "weight", 6, ("WE2", WE2, 503.1))
    (t,) = transitions([ANY], v, {}, at(6) + timedelta(seconds=3))
    assert t.condition is not None
    assert (t.at, t.condition.value) == (at(6), 503.1)  # the point's time, not the check's
    assert t.condition.detail == "Filler 1 fill weight: WE2 2 of 3 beyond 2σ on one side at 503.1 g"


def test_cleared_at_the_eighth_point_in_control_after_it() -> None:
    v = view("weight")
    point(v, "weight", 6, ("WE1", "1 point beyond 3σ", 506.25))
    for seq in range(7, 14):  # 7..13: seven points in control, 13 - 6 = 7 < 8
        point(v, "weight", seq)
        assert transitions([ANY], v, {"spc": object()}, at(seq)) == []
    point(v, "weight", 14)  # the eighth: 14 - 6 = 8
    (t,) = transitions([ANY], v, {"spc": object()}, at(14))
    assert (t.at, t.condition) == (at(14), None)


def test_a_new_violation_starts_the_count_again() -> None:
    v = view("weight")
    point(v, "weight", 6, ("WE1", "1 point beyond 3σ", 506.25))
    for seq in range(7, 10):
        point(v, "weight", seq)
    point(v, "weight", 10, ("WE2", WE2, 503.4))
    for seq in range(11, 18):  # 17 - 10 = 7: still active
        point(v, "weight", seq)
    assert transitions([ANY], v, {"spc": object()}, at(17)) == []
    point(v, "weight", 18)
    (t,) = transitions([ANY], v, {"spc": object()}, at(18))
    assert (t.at, t.condition) == (at(18), None)


def test_only_the_rules_and_charts_it_filters() -> None:
    zone = SpcRule("zone", "critical", frozenset({"weight"}), frozenset({"WE1", "WE2"}), 3)
    v = view("weight", "temp")
    point(v, "temp", 1, ("WE1", "1 point beyond 3σ", 80.0))  # another chart
    point(v, "weight", 1, ("N2", "9 points in a row on one side", 500.4))  # another rule
    assert transitions([zone], v, {}, at(1)) == []
    point(v, "weight", 2, ("WE2", WE2, 503.1))
    (t,) = transitions([zone], v, {}, at(2))
    assert t.at == at(2)
    # N2 keeps firing at 3 and 4: it is no rule of this alarm, so 5 - 2 = 3 clears it.
    point(v, "weight", 3, ("N2", "9 points in a row on one side", 500.5))
    point(v, "weight", 4, ("N2", "9 points in a row on one side", 500.6))
    assert transitions([zone], v, {"zone": object()}, at(4)) == []
    point(v, "weight", 5)
    (t,) = transitions([zone], v, {"zone": object()}, at(5))
    assert t.condition is None


def test_a_violation_against_trial_limits_says_so() -> None:
    v = view("weight")
    v.spc["weight"].saw(3)
    v.spc["weight"].hits.append(SpcHit(3, at(3), "WE1", "1 point beyond 3σ", 0.0625, "I"))
    (t,) = transitions([ANY], v, {}, at(3))
    assert t.condition is not None
    assert t.condition.detail == (
        "Filler 1 fill weight: WE1 1 point beyond 3σ at 0.0625 g (trial limits)"
    )


def test_after_a_restart_kept_until_seen_in_control() -> None:
    # The alarm came back from the checkpoint; what the chart did while the gateway was
    # down is unknown: kept with no chart seen, then until 8 points seen (as if the point
    # before the first seen had broken a rule: 20..26 is 7 points, 27 the eighth).
    v = view()
    active = {"spc": object()}
    assert transitions([ANY], v, active, at(19)) == []
    v.spc["weight"] = SpcTrack("Filler 1 fill weight", "g", restored=True)
    for seq in range(20, 27):
        point(v, "weight", seq)
        assert transitions([ANY], v, active, at(seq)) == []
    point(v, "weight", 27)
    (t,) = transitions([ANY], v, active, at(27))
    assert (t.at, t.condition) == (at(27), None)


def test_old_violations_are_forgotten_past_the_horizon() -> None:
    track = SpcTrack("w")
    for seq in range(1, 31):
        track.saw(seq)
        track.hits.append(SpcHit(seq, at(seq), "N3", "6 points in a row rising", 500.0))
        track.forget(8)
    assert [h.seq for h in track.hits] == [23, 24, 25, 26, 27, 28, 29, 30]
