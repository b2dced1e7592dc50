"""The `spc:` section: charts of every source and kind, and the refusals that name their
field path and the fix (a tag the machine does not have, a kind the source cannot make, a
subgroup size outside the constants' table, spec and limits out of order)."""

from __future__ import annotations

import pytest

from edge.config.loading import ConfigError, parse_config
from oee.spc import RuleSet, Spec

BASE = """
gateway: {id: gw}
site: s
area: a
line: l1
scrap_reasons: {7: {text: Underfilled}, 8: {text: Leak}}
machines:
  - id: filler1
    name: Filler 1
    modbus: {host: 127.0.0.1}
    tags:
      code: {address: 0}
      total: {address: 1, type: uint32}
      reject: {address: 3, type: uint32}
      fill_weight: {address: 5, type: float32, order: CDAB}
      running: {address: 7, type: bit, bit: 0}
    state_rules: [{tag: code, map: {1: running, 2: fault}}]
    counters: {total: {tag: total}, reject: {tag: reject}}
    ideal_cycle_s: 1
    products: {P100: {ideal_cycle_s: 1}, P200: {ideal_cycle_s: 2}}
  - id: press1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}, temp: {address: 1}}
    state_rules: [{tag: code, map: {1: running}}]
    ideal_cycle_s: 1
spc:
  charts:
"""


def parse(charts: str):  # type: ignore[no-untyped-def]
    return parse_config(BASE + charts, "t.yaml")


def issues(charts: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse(charts)
    return [str(i) for i in e.value.issues]


def test_a_chart_of_every_source() -> None:
    c = parse(
        """
    - id: filler1-weight
      machine: filler1
      name: Filler 1 fill weight
      unit: g
      tag: fill_weight
      kind: xbar_r
      subgroup: {size: 5, every_s: 60, per_part: true}
      valid: {min: 0, max: 2000}
      rules: {western_electric: [1, 2], nelson: [2, 3]}
      spec: {lsl: 495, usl: 505, target: 500}
      products: {P100: {lsl: 245, usl: 255, target: 250}}
      baseline_subgroups: 20
    - {id: w-hand, machine: press1, source: manual, kind: imr,
       limits: {center: 10, ucl: 13, lcl: 7}}
    - {id: rejects, machine: filler1, source: counts, kind: p, subgroup: {parts: 200}}
    - {id: defects, machine: filler1, source: counts, kind: u, subgroup: {every_s: 3600},
       reasons: [7]}
"""
    )
    weight, hand, rejects, defects = c.spc.charts
    assert (weight.size, weight.subgroup.every_s, weight.subgroup.per_part) == (5, 60.0, True)
    assert weight.rules.to_rules() == RuleSet(frozenset({1, 2}), frozenset({2, 3}))
    assert weight.spec_for("P100") == Spec(245, 255, 250)
    assert weight.spec_for("P200") == weight.spec_for(None) == Spec(495, 505, 500)
    assert (weight.title, hand.title, hand.size) == ("Filler 1 fill weight", "w-hand", 1)
    assert hand.limits is not None and (hand.limits.lcl, hand.limits.ucl) == (7, 13)
    assert hand.rules.to_rules() == RuleSet()  # Western Electric 1-4 by default
    assert (rejects.subgroup.parts, rejects.baseline_subgroups) == (200, 25)
    assert defects.reasons == [7]


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        (
            "{id: x, machine: filler2, tag: fill_weight, kind: imr}",
            "spc.charts[0].machine: no machine 'filler2': known are filler1, press1",
        ),
        (
            "{id: x, machine: filler1, tag: weight, kind: imr}",
            "spc.charts[0].tag: tag 'weight' is not a tag of machine 'filler1'; its tags are "
            "code, fill_weight, reject, running, total",
        ),
        (
            "{id: x, machine: filler1, tag: running, kind: imr}",
            "spc.charts[0].tag: tag 'running' is a bit, not a measurement: chart a numeric tag",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: xbar_r}",
            "spc.charts[0].subgroup.size: xbar_r needs subgroup.size 2..25 (readings per subgroup)",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: xbar_s, subgroup: {size: 26}}",
            "spc.charts[0].subgroup.size: 26 is out of range: write a whole number of "
            "readings from 1 to 25",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: imr, subgroup: {size: 5}}",
            "spc.charts[0].subgroup.size: imr charts single readings: subgroup.size is 1 (or "
            "leave it out)",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: p}",
            "spc.charts[0].kind: source tag makes imr, xbar_r, xbar_s charts, not p",
        ),
        (
            "{id: x, machine: filler1, source: counts, kind: xbar_r, subgroup: {size: 5}}",
            "spc.charts[0].kind: source counts makes c, np, p, u charts, not xbar_r",
        ),
        (
            "{id: x, machine: filler1, kind: imr}",
            "spc.charts[0].tag: source tag reads `tag`: name it",
        ),
        (
            "{id: x, machine: filler1, source: counts, kind: np, subgroup: {every_s: 60}}",
            "spc.charts[0].subgroup.parts: np needs a constant subgroup: set subgroup.parts, "
            "not every_s",
        ),
        (
            "{id: x, machine: filler1, source: counts, kind: c,"
            " subgroup: {parts: 50, every_s: 60}}",
            "spc.charts[0].subgroup.parts: parts makes p and np subgroups, not c: remove it",
        ),
        (
            "{id: x, machine: press1, source: counts, kind: p, subgroup: {parts: 50}}",
            "spc.charts[0].kind: machine 'press1' counts no parts: give it counters (total, "
            "good, reject)",
        ),
        (
            "{id: x, machine: press1, tag: temp, kind: imr, subgroup: {per_part: true}}",
            "spc.charts[0].subgroup.per_part: machine 'press1' counts no parts: give it "
            "counters (total, good, reject)",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: imr, spec: {lsl: 505, usl: 495}}",
            "spc.charts[0].spec.usl: lsl (505) must be below usl (495): swap them",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: imr, valid: {min: 10, max: 10}}",
            "spc.charts[0].valid.max: min (10) must be below max (10): swap or widen them",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: imr,"
            " limits: {center: 500, ucl: 499, lcl: 497}}",
            "spc.charts[0].limits.center: lcl (497) < center (500) < ucl (499) does not hold: "
            "give the lower limit, the centre line and the upper limit in order",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: imr, products: {P9: {usl: 1}}}",
            "spc.charts[0].products.P9: 'P9' is not a product of machine 'filler1'; its "
            "products are P100, P200",
        ),
        (
            "{id: x, machine: filler1, source: counts, kind: c, subgroup: {every_s: 60},"
            " reasons: [9]}",
            "spc.charts[0].reasons[0]: 9 is not a scrap reason of machine 'filler1'; known "
            "are 7, 8",
        ),
        (
            "{id: x, machine: filler1, tag: fill_weight, kind: imr,"
            " rules: {western_electric: [5]}}",
            "spc.charts[0].rules.western_electric[0]: 5 is out of range: write a whole number "
            "from 1 to 4",
        ),
    ],
)
def test_refusals_name_the_field_and_the_fix(chart: str, expected: str) -> None:
    assert issues("    - " + chart + "\n") == [expected]


def test_chart_ids_are_unique() -> None:
    found = issues(
        "    - {id: w, machine: filler1, tag: fill_weight, kind: imr}\n"
        "    - {id: w, machine: press1, tag: temp, kind: imr}\n"
    )
    assert found == ["spc.charts[1].id: chart id 'w' is used twice: rename one"]


def test_no_spc_section_means_no_charts() -> None:
    c = parse_config(BASE.replace("spc:\n  charts:\n", ""), "t.yaml")
    assert c.spc.charts == []
