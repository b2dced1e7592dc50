"""Run rules against a published detection: SAS/QC User's Guide, SHEWHART procedure,
"Applying Tests for Special Causes" (sample library SHWTEST; Example 13.34 / 15.34 / 17.34
by edition, https://support.sas.com/documentation/cdl/en/qcug/65562/HTML/default/
qcug_shewhart_sect405.htm): an X̄ chart of gap widths, 21 subgroups of 5 given as their
means and ranges, Tests 1 to 5 (SAS numbers the tests as Nelson 1984: 1 beyond 3σ,
2 nine on one side, 3 six trending, 4 fourteen alternating, 5 two of three in zone A or
beyond). Printed result: "Test 5 was positive at sample 14", and no other test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oee.spc import RuleSet, Subgroup, compute_limits, evaluate, judge

T0 = datetime(2026, 1, 5, tzinfo=UTC)
# SAS data set Parts: (sample mean, sample range), n = 5.
PARTS = [
    (270, 35), (258, 25), (248, 24), (260, 39), (273, 29), (260, 21), (259, 37), (248, 37),
    (260, 28), (255, 19), (268, 36), (253, 36), (273, 29), (275, 22), (257, 24), (269, 41),
    (249, 36), (264, 31), (258, 25), (248, 36), (248, 30),
]  # fmt: skip


def _subgroups() -> list[Subgroup]:
    # Five readings with the printed mean m and range r: m − r/2, m + r/2, m, m, m.
    return [Subgroup(ts=T0, values=(m - r / 2, m + r / 2, m, m, m)) for m, r in PARTS]


@pytest.mark.parametrize(
    ("rules", "rule"),
    [
        (RuleSet(frozenset(), frozenset({1, 2, 3, 4, 5})), "N5"),  # SAS's TESTS=1 to 5
        (RuleSet(frozenset({1, 2, 3, 4}), frozenset()), "WE2"),  # the WE rules: the same
        (RuleSet(frozenset(), frozenset(range(1, 9))), "N5"),  # Nelson 6, 7, 8: nothing more
    ],
)
def test_sas_gap_width_test_5_at_sample_14(rules: RuleSet, rule: str) -> None:
    subgroups = _subgroups()
    limits = compute_limits("xbar_r", subgroups)
    # Hand-computed: X̄̄ = 5453/21 = 259.667, R̄ = 640/21 = 30.476, A2·R̄ with the exact d2.
    assert (round(limits.center, 3), round(limits.spread_center, 3)) == (259.667, 30.476)  # type: ignore[arg-type]
    points = [judge("xbar_r", s, limits) for s in subgroups]
    found = evaluate(points, rules, seqs=range(1, 22))
    assert [(i + 1, v.rule, v.points, v.side) for i, v in found] == [(14, rule, (13, 14), "+")]
    assert [p.zone for p in points[12:14]] == ["A+", "A+"]
    assert not any(p.zone.startswith("beyond") for p in points)
