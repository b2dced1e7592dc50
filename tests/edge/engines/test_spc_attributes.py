"""Attribute charts through the SPC engine, on Montgomery's published data (qcc's vignette
prints the same results): a p chart of orange juice cans from the machine's counts, one
point per 50 parts (Example 7.1), and a c chart of printed circuit board nonconformities
from scrap booked by hand, one point per interval, counting only the chosen reasons
(Example 7.3). Trial limits come from the baseline through the engine, as in the daemon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.operator import ScrapBooked
from core.spc import SpcLimitsChange, SpcPoint
from core.types import CountDelta, Event
from edge.config.loading import parse_config
from edge.engines.spc import SpcEngine
from tests.oee.spc.datasets import CIRCUIT, ORANGEJUICE

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

YAML = """
gateway: {id: gw}
site: s
area: a
line: l1
scrap_reasons: {101: Solder short, 102: Scratch}
machines:
  - id: filler1
    modbus: {host: 127.0.0.1}
    tags:
      total: {address: 4, type: uint32}
      reject: {address: 8, type: uint32}
    counters: {total: {tag: total}, reject: {tag: reject}}
    ideal_cycle_s: 1
spc:
  charts:
    - {id: cans, machine: filler1, source: counts, kind: p, subgroup: {parts: 50},
       baseline_subgroups: 30}
    - {id: boards, machine: filler1, source: counts, kind: c, subgroup: {every_s: 60},
       reasons: [101], baseline_subgroups: 26}
"""


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def published(e: SpcEngine, s: float) -> list[Event]:
    return [x for b in e.publications(at(s)) for x in b]


def test_p_chart_from_the_counts_per_fifty_parts() -> None:
    e = SpcEngine(parse_config(YAML, "t.yaml"))
    for i, rejects in enumerate(ORANGEJUICE[:30]):
        e.apply(CountDelta("filler1", at(i), 50, 50 - rejects, rejects))
    out = published(e, 100)
    points = [x for x in out if isinstance(x, SpcPoint) and x.chart == "cans"]
    assert [p.value for p in points] == [d / 50 for d in ORANGEJUICE[:30]]
    assert {p.n for p in points} == {50}
    [trial] = [x for x in out if isinstance(x, SpcLimitsChange) and x.chart == "cans"]
    lim = trial.limits
    assert lim is not None and (trial.action, lim.subgroups) == ("trial", 30)
    # Montgomery Example 7.1 / qcc: p̄ = 0.2313333, LCL 0.05242755, UCL 0.4102391.
    assert lim.center == pytest.approx(0.2313333, abs=5e-8)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(0.05242755, abs=5e-9),
        pytest.approx(0.4102391, abs=5e-8),
    )
    # Sample 31 after the adjustment of the book (ORANGEJUICE[30] = 9 of 50): judged live.
    e.apply(CountDelta("filler1", at(31), 50, 41, 9))
    [p31] = [x for x in published(e, 101) if isinstance(x, SpcPoint)]
    assert (p31.seq, p31.value, p31.phase, p31.zone) == (31, 0.18, "I", "C-")


def test_c_chart_from_scrap_booked_by_reason_per_interval() -> None:
    e = SpcEngine(parse_config(YAML, "t.yaml"))
    for i, defects in enumerate(CIRCUIT[:26]):
        booked = ScrapBooked("filler1", at(60 * i + 10), defects, 101, "Solder short", "ana")
        other = ScrapBooked("filler1", at(60 * i + 20), 7, 102, "Scratch", "ana")
        e.observe([booked, other])  # the scratches are not this chart's defects
    out = published(e, 60 * 26)  # the 26th interval has ended
    points = [x for x in out if isinstance(x, SpcPoint) and x.chart == "boards"]
    assert [p.value for p in points] == [float(c) for c in CIRCUIT[:26]]
    [trial] = [x for x in out if isinstance(x, SpcLimitsChange) and x.chart == "boards"]
    lim = trial.limits
    # Montgomery Example 7.3 / qcc: c̄ = 19.84615, LCL 6.481447, UCL 33.21086.
    assert lim is not None and lim.subgroups == 26
    assert lim.center == pytest.approx(19.84615, abs=5e-6)
    assert (lim.lcl, lim.ucl) == (
        pytest.approx(6.481447, abs=5e-7),
        pytest.approx(33.21086, abs=5e-6),
    )
