"""What the SPC engine hands the API (typed views of a chart, a baseline) and how a
chart's state is kept across restarts (the checkpoint document in the outbox's meta)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from edge.config.spc import ChartConfig
from edge.engines.spc_chart import Chart, LimitsMeta
from oee.spc import Limits, RuleTracker, Spec, Subgroup, constants

__all__ = [
    "Baseline",
    "BaselineError",
    "ChartView",
    "LimitsView",
    "UnknownChart",
    "checkpoint_key",
    "config_limits",
    "dump_chart",
    "load_chart",
    "view_of",
]

CHECKPOINT_VERSION = 1


class UnknownChart(KeyError):
    """No configured chart has this id (`known`: the ids there are)."""

    def __init__(self, chart: str, known: list[str]) -> None:
        super().__init__(chart)
        self.chart, self.known = chart, known

    def __str__(self) -> str:
        return f"no SPC chart '{self.chart}'"


class BaselineError(ValueError):
    """A baseline or limits that cannot be used (the message says why and what to do)."""


@dataclass(frozen=True, slots=True)
class LimitsView:
    """The limits in force with who set them, when, and from which baseline."""

    limits: Limits
    action: str  # trial, frozen, manual
    frozen_by: str | None
    frozen_at: datetime | None
    baseline_from: datetime | None
    baseline_to: datetime | None
    excluded: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChartView:
    """A chart as it stands: its config, the latest point and the limits in force (the
    MQTT chart state, `GET /api/v1/spc/charts`)."""

    config: ChartConfig
    phase: str
    last: SpcPoint | None
    limits: LimitsView | None
    spec: Spec | None
    product: str | None

    @property
    def chart(self) -> str:
        return self.config.id

    @property
    def machine(self) -> str:
        return self.config.machine


@dataclass(frozen=True, slots=True)
class Baseline:
    """A Phase I baseline: the limits computed from its points (those in `excluded` left
    out), its points judged against them and the rules they break; `change` when the
    limits were frozen (not a preview)."""

    chart: str
    limits: Limits
    points: tuple[SpcPoint, ...]
    violations: tuple[SpcViolation, ...]
    excluded: tuple[int, ...]
    baseline_from: datetime
    baseline_to: datetime
    change: SpcLimitsChange | None = None


def checkpoint_key(chart: str) -> str:
    """The outbox meta key of `chart`'s state."""
    return f"spc/{chart}"


def view_of(chart: Chart) -> ChartView:
    m = chart.meta
    limits = None
    if chart.limits is not None and m.action is not None:
        limits = LimitsView(
            chart.limits, m.action, m.by, m.at, m.baseline_from, m.baseline_to, m.excluded
        )
    spec = chart.config.spec_for(chart.product)
    return ChartView(chart.config, chart.phase, chart.last, limits, spec, chart.product)


def config_limits(c: ChartConfig) -> Limits | None:
    """The limits set by hand in the config as `oee.spc.Limits`: σ of one reading from
    the limits when not given ((ucl − center)/3, times √n for x̄), the spread chart's
    centre from σ (R̄ = d2·σ, S̄ = c4·σ, MR̄ = d2(2)·σ) and its limits D3/D4·R̄, B3/B4·S̄."""
    given = c.limits
    if given is None:
        return None
    if not c.variables:
        return Limits(c.kind, given.center, 0.0, 0.0, given.ucl, given.lcl,
                      source="manual")  # fmt: skip
    n = c.size
    k = constants(max(n, 2))
    sigma = given.sigma
    if sigma is None:
        sigma = (given.ucl - given.center) / 3 * (n**0.5 if n > 1 else 1.0)
    if c.kind == "xbar_s":
        center = given.spread_center if given.spread_center is not None else k.c4 * sigma
        low, high = k.B3 * center, k.B4 * center
    else:
        center = given.spread_center if given.spread_center is not None else k.d2 * sigma
        low, high = k.D3 * center, k.D4 * center
    return Limits(
        c.kind, given.center, sigma, float(n), given.ucl, given.lcl, center, high, low,
        source="manual",
    )  # fmt: skip


def _time(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _parse(t: Any) -> datetime | None:
    return None if t is None else datetime.fromisoformat(t)


def dump_chart(chart: Chart, applied: Limits | None) -> str:
    """`chart`'s state as the checkpoint document (JSON); `applied`: the config's hand
    limits last applied (so an edited config applies them again, an unchanged one not)."""
    m = chart.meta
    assert chart.tracker is not None
    doc = {
        "v": CHECKPOINT_VERSION,
        "seq": chart.seq,
        "limits": None if chart.limits is None else dataclasses.asdict(chart.limits),
        "action": m.action, "by": m.by, "at": _time(m.at),
        "from": _time(m.baseline_from), "to": _time(m.baseline_to),
        "excluded": list(m.excluded),
        "tracker": chart.tracker.state(),
        "previous": None if chart.previous is None else list(chart.previous.values),
        "previous_ts": None if chart.previous is None else _time(chart.previous.ts),
        "baseline_from_seq": chart.baseline_from_seq,
        "config_limits": None if applied is None else dataclasses.asdict(applied),
    }  # fmt: skip
    return json.dumps(doc, separators=(",", ":"))


def load_chart(chart: Chart, text: str) -> Limits | None:
    """Put a checkpoint document back into `chart`; the config limits it had applied.
    ValueError, KeyError or TypeError if the document is not one."""
    doc = json.loads(text)
    if doc.get("v") != CHECKPOINT_VERSION:
        raise ValueError(f"version {doc.get('v')!r}")
    limits = None if doc["limits"] is None else Limits(**doc["limits"])
    chart.seq = int(doc["seq"])
    chart.limits = limits
    chart.meta = LimitsMeta(
        doc["action"], doc["by"], _parse(doc["at"]), _parse(doc["from"]), _parse(doc["to"]),
        tuple(int(s) for s in doc["excluded"]),
    )  # fmt: skip
    chart.tracker = RuleTracker.from_state(doc["tracker"], chart.config.rules.to_rules())
    if doc["previous"] is not None:
        ts = _parse(doc["previous_ts"])
        assert ts is not None
        chart.previous = Subgroup(ts, tuple(float(v) for v in doc["previous"]))
    chart.baseline_from_seq = int(doc["baseline_from_seq"])
    applied = doc["config_limits"]
    return None if applied is None else Limits(**applied)
