"""Run rules at their boundaries, hand-computed: each pattern one point short does not
fire, the completed pattern fires at the point that completes it with the points involved.
Points are judged on an I chart set by hand with centre 0 and σ 1, so z = the reading.
Rule definitions: Western Electric Statistical Quality Control Handbook (1956); Nelson
(1984), J. Quality Technology 16(4); Montgomery §5.3.6; conventions as R's qcc R/rules.R."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from oee.spc import Limits, Point, RuleSet, RuleTracker, Subgroup, evaluate, judge

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
LIM = Limits(kind="imr", center=0, sigma=1, n=1, ucl=3, lcl=-3, source="manual")
WE = RuleSet()
NELSON = RuleSet(western_electric=frozenset(), nelson=frozenset(range(1, 9)))


def points(zs: list[float]) -> list[Point]:
    return [
        judge("imr", Subgroup(ts=T0 + timedelta(minutes=i), values=(z,)), LIM)
        for i, z in enumerate(zs)
    ]


def fired(
    zs: list[float], rules: RuleSet, rule: str
) -> list[tuple[int, tuple[int, ...], str | None]]:
    """(index, points, side) of each `rule` violation over the series, seqs 1..n."""
    found = evaluate(points(zs), rules, seqs=range(1, len(zs) + 1))
    return [(i, v.points, v.side) for i, v in found if v.rule == rule]


def only(rule: str) -> RuleSet:
    n = int(rule.lstrip("WEN"))
    if rule.startswith("WE"):
        return RuleSet(western_electric=frozenset({n}), nelson=frozenset())
    return RuleSet(western_electric=frozenset(), nelson=frozenset({n}))


@pytest.mark.parametrize("rule", ["WE1", "N1"])
def test_rule_1_beyond_the_limits(rule: str) -> None:
    assert fired([3.0, -3.0, 2.99], only(rule), rule) == []  # on the limits: not beyond
    assert fired([0.5, 3.01, -3.2], only(rule), rule) == [(1, (2,), "+"), (2, (3,), "-")]


@pytest.mark.parametrize("rule", ["WE2", "N5"])
def test_2_of_3_beyond_2_sigma(rule: str) -> None:
    r = only(rule)
    assert fired([2.5, 0, 2.0], r, rule) == []  # exactly 2σ is not beyond
    assert fired([2.5, 0, -2.5], r, rule) == []  # not on the same side
    assert fired([2.5, 2.5], r, rule) == []  # the window of 3 is not full yet (as qcc)
    assert fired([0, 2.5, 0, 2.1], r, rule) == [(3, (2, 4), "+")]
    # The third point not beyond completes nothing; a fourth beyond completes it again.
    assert fired([0, -2.2, -2.6, 0, -2.1], r, rule) == [(2, (2, 3), "-"), (4, (3, 5), "-")]


@pytest.mark.parametrize("rule", ["WE3", "N6"])
def test_4_of_5_beyond_1_sigma(rule: str) -> None:
    r = only(rule)
    assert fired([1.5, 1.5, 0, 1.5, 1.0], r, rule) == []  # 3 of 5 (1.0 is not beyond 1σ)
    assert fired([1.5, 1.5, 0.2, 1.5, 1.5], r, rule) == [(4, (1, 2, 4, 5), "+")]
    assert fired([-1.2, -1.5, -2.5, 0.5, -1.1, -1.7], r, rule) == [
        (4, (1, 2, 3, 5), "-"),
        (5, (2, 3, 5, 6), "-"),
    ]


def test_we4_8_in_a_row_and_n2_9_in_a_row() -> None:
    seven = [0.1] * 7
    assert fired(seven + [0.0, 0.1], only("WE4"), "WE4") == []  # the centre line breaks it
    assert fired(seven + [0.1], only("WE4"), "WE4") == [(7, tuple(range(1, 9)), "+")]
    # A run of 10 reports at its 8th, 9th and 10th points, each with the last 8.
    run = fired([-0.5] * 10, only("WE4"), "WE4")
    assert run == [
        (7, tuple(range(1, 9)), "-"),
        (8, tuple(range(2, 10)), "-"),
        (9, tuple(range(3, 11)), "-"),
    ]
    assert fired([0.3] * 8, only("N2"), "N2") == []
    assert fired([0.3] * 9, only("N2"), "N2") == [(8, tuple(range(1, 10)), "+")]


def test_n3_six_in_a_row_increasing_or_decreasing() -> None:
    r = only("N3")
    assert fired([0, 0.1, 0.2, 0.3, 0.4], r, "N3") == []  # 5 points
    assert fired([0, 0.1, 0.2, 0.2, 0.3, 0.4], r, "N3") == []  # a tie breaks the trend
    assert fired([0, 0.1, 0.2, 0.3, 0.4, 0.5], r, "N3") == [(5, (1, 2, 3, 4, 5, 6), "+")]
    assert fired([1, 0.5, 0, -0.5, -1, -1.5, -2], r, "N3") == [
        (5, (1, 2, 3, 4, 5, 6), "-"),
        (6, (2, 3, 4, 5, 6, 7), "-"),
    ]


def test_n4_fourteen_alternating() -> None:
    r = only("N4")
    zigzag = [0.5 if i % 2 else -0.5 for i in range(14)]
    assert fired(zigzag[:13], r, "N4") == []
    assert fired(zigzag, r, "N4") == [(13, tuple(range(1, 15)), None)]
    broken = zigzag[:7] + [zigzag[6]] + zigzag[7:]  # a repeat breaks the alternation
    assert fired(broken, r, "N4") == []


def test_n7_fifteen_within_1_sigma() -> None:
    r = only("N7")
    hugging = [0.5, -0.5, 1.0, -1.0, 0.0] * 3  # 1.0 is within (|z| ≤ 1)
    assert fired(hugging[:14], r, "N7") == []
    assert fired(hugging, r, "N7") == [(14, tuple(range(1, 16)), None)]
    assert fired(hugging[:7] + [1.01] + hugging[7:], r, "N7") == []


def test_n8_eight_beyond_1_sigma_on_both_sides() -> None:
    r = only("N8")
    mixture = [1.5, -1.5, 2, -2, 1.2, -1.2, 2.5, -2.5]
    assert fired(mixture[:7], r, "N8") == []
    assert fired(mixture, r, "N8") == [(7, tuple(range(1, 9)), None)]
    assert fired([1.5] * 8, r, "N8") == []  # all on one side: N2/WE4 and N6 catch that
    assert fired(mixture[:4] + [1.0] + mixture[4:], r, "N8") == []  # 1σ exactly breaks it


def test_spread_point_beyond_its_limits() -> None:
    lim = Limits(
        kind="imr",
        center=0,
        sigma=1,
        n=1,
        ucl=3,
        lcl=-3,
        spread_center=1.128,
        spread_ucl=3.685,
        spread_lcl=0,
    )
    a = judge("imr", Subgroup(ts=T0, values=(-1.9,)), lim)
    b = judge("imr", Subgroup(ts=T0, values=(1.9,)), lim, previous=Subgroup(ts=T0, values=(-1.9,)))
    tracker = RuleTracker(RuleSet())
    assert tracker.add(1, a) == []
    [v] = tracker.add(2, b)
    assert (v.rule, v.name, v.points, v.side) == (
        "SPREAD",
        "spread point beyond its limits",
        (2,),
        None,
    )


def test_all_rules_at_once_and_their_names() -> None:
    zs = [0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 2.1, 2.2, 3.5]
    found = evaluate(points(zs), RuleSet(frozenset({1, 2, 3, 4}), frozenset(range(1, 9))))
    got = [(i, v.rule, v.name) for i, v in found]
    assert got == [
        (5, "N3", "6 in a row steadily increasing or decreasing"),
        (6, "N3", "6 in a row steadily increasing or decreasing"),
        (7, "WE2", "2 of 3 beyond 2σ on one side"),
        (7, "WE4", "8 in a row on one side"),
        (7, "N3", "6 in a row steadily increasing or decreasing"),
        (7, "N5", "2 of 3 beyond 2σ on one side"),
        (8, "WE1", "1 point beyond 3σ"),
        (8, "WE2", "2 of 3 beyond 2σ on one side"),
        (8, "WE3", "4 of 5 beyond 1σ on one side"),
        (8, "WE4", "8 in a row on one side"),
        (8, "N1", "1 point beyond 3σ"),
        (8, "N2", "9 in a row on one side"),
        (8, "N3", "6 in a row steadily increasing or decreasing"),
        (8, "N5", "2 of 3 beyond 2σ on one side"),
        (8, "N6", "4 of 5 beyond 1σ on one side"),
    ]


def test_tracker_equals_evaluate_and_survives_a_checkpoint() -> None:
    # A pseudo-random walk (fixed LCG) through every zone: the tracker restored from a
    # JSON checkpoint half-way gives the same violations as evaluate() over the series.
    zs, x = [], 12345
    for _ in range(400):
        x = (1103515245 * x + 12345) % 2**31
        zs.append(round((x / 2**31 - 0.5) * 7, 2))
    pts = points(zs)
    rules = RuleSet(frozenset({1, 2, 3, 4}), frozenset(range(1, 9)))
    whole = [(i + 100, v) for i, v in evaluate(pts, rules, seqs=range(100, 500))]
    tracker, got = RuleTracker(rules), []
    for i, p in enumerate(pts):
        if i == 200:
            tracker = RuleTracker.from_state(json.loads(json.dumps(tracker.state())))
        got += [(i + 100, v) for v in tracker.add(i + 100, p)]
    assert got == [(s, v) for s, v in whole]
    assert {v.rule for _, v in got} >= {"WE1", "WE2", "WE3", "N1", "N5", "N6"}


def test_reset_starts_patterns_again() -> None:
    tracker = RuleTracker(only("WE4"))
    for i, p in enumerate(points([0.5] * 7)):
        assert tracker.add(i, p) == []
    tracker.reset()
    for i, p in enumerate(points([0.5] * 7)):
        assert tracker.add(10 + i, p) == []
    [v] = tracker.add(17, points([0.5])[0])
    assert v.points == tuple(range(10, 18))


def test_evaluate_checks_the_seqs() -> None:
    with pytest.raises(ValueError, match="2 seqs for 3 points"):
        evaluate(points([0, 0, 0]), WE, seqs=[1, 2])
