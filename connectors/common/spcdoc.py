"""The SPC documents every channel publishes (issue 18; README "MQTT", docs/asyncapi.yaml):
the retained chart state `…/spc/{chart}` (the chart after its latest point, or after a
change of its limits) and a run-rule violation `…/spc/{chart}/violation`. The MQTT sink
and the API's server-sent events build them here, so both carry the same names and shapes.

An `SpcPoint` carries what was judged (value, spread, n, its own limits at its n, zone,
rules); the chart's name, unit, tag and spec come from its configuration
(`SpcChartInfo`), and its limits as a whole (σ, the spread chart's, who froze them and
from which baseline) from its last `SpcLimitsChange`: `SpcCharts` remembers both per
chart, in the order the events come, and can hand the limits over a restart
(`checkpoint`/`restore`, a meta value of the outbox committed with the change).

Numbers: process values and limits to 6 significant digits (`sig`): a fill weight of
500.123456 g reads 500.123, a fraction defective of 0.0123456 reads 0.0123456, a
diameter of 0.00123456 mm 0.00123456 (a fixed number of decimals would drop the
digits of small values or keep noise on big ones); a subgroup size that is a whole
number is an integer. Non-finite floats are null (JSON has no NaN).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.common.timefmt import rfc3339
from core.spc import SpcLimitsChange, SpcPoint, SpcViolation

__all__ = [
    "FROZEN_ACTIONS", "SIGNIFICANT", "SpcChartInfo", "SpcCharts", "SpecLimits",
    "limits_document", "sig", "size", "violation_document", "violation_id",
]  # fmt: skip

SIGNIFICANT = 6
#: The limits changes after which the chart is in Phase II (limits fixed by someone).
FROZEN_ACTIONS = frozenset({"frozen", "manual"})


def sig(x: float | None) -> float | None:
    """`x` to `SIGNIFICANT` significant digits; None for None, NaN and infinities."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.{SIGNIFICANT}g}")


def size(n: float | None) -> float | int | None:
    """A subgroup size: an int when whole (5, not 5.0), else `sig`."""
    if n is None or not math.isfinite(n):
        return None
    return int(n) if float(n).is_integer() else sig(n)


def _ts(ts: datetime | None) -> str | None:
    return None if ts is None else rfc3339(ts)


@dataclass(frozen=True, slots=True)
class SpecLimits:
    """A chart's specification limits (any of them may be missing)."""

    lsl: float | None = None
    usl: float | None = None
    target: float | None = None

    def document(self) -> dict[str, float | None]:
        return {"lsl": sig(self.lsl), "usl": sig(self.usl), "target": sig(self.target)}


@dataclass(frozen=True, slots=True)
class SpcChartInfo:
    """What the configuration says of one chart (`spc.charts[]`): its name, kind, unit,
    the tag it reads (None: hand entry or counts) and its spec, per product if given."""

    chart: str
    machine: str
    name: str
    kind: str
    unit: str | None = None
    tag: str | None = None
    spec: SpecLimits | None = None
    products: Mapping[str, SpecLimits] = field(default_factory=dict)

    def spec_for(self, product: str | None) -> SpecLimits | None:
        """The product's spec if it has one, else the chart's."""
        return self.products.get(product, self.spec) if product is not None else self.spec


def limits_document(change: SpcLimitsChange | None) -> dict[str, Any] | None:
    """The `limits` object of the chart state after `change` (None: no limits): the
    limits, `frozen_by`/`frozen_at` (who fixed them and when: a freeze or limits set by
    hand; null for trial limits), and the baseline they come from."""
    if change is None or change.limits is None:
        return None
    lim, fixed = change.limits, change.action in FROZEN_ACTIONS
    return {
        "center": sig(lim.center),
        "ucl": sig(lim.ucl),
        "lcl": sig(lim.lcl),
        "sigma": sig(lim.sigma),
        "n": size(lim.n),
        "spread_center": sig(lim.spread_center),
        "spread_ucl": sig(lim.spread_ucl),
        "spread_lcl": sig(lim.spread_lcl),
        "source": lim.source,
        "subgroups": lim.subgroups,
        "frozen_by": change.by if fixed else None,
        "frozen_at": rfc3339(change.ts) if fixed else None,
        "baseline_from": _ts(change.baseline_from),
        "baseline_to": _ts(change.baseline_to),
        "excluded": list(change.excluded),
    }


def violation_id(stream: str, ev: SpcViolation) -> str:
    """`{stream}:{machine}:{chart}:v{seq}:{rule}`: a violation is one rule at one point of
    one chart (a point may break several rules; a machine may have several charts)."""
    return f"{stream}:{ev.machine}:{ev.chart}:v{ev.seq}:{ev.rule}"


def violation_document(ev: SpcViolation, stream: str = "") -> dict[str, Any]:
    """`…/spc/{chart}/violation`: the rule, the points involved (oldest first, the last
    the one that completed it), the side of the centre line and the point's value."""
    return {
        "chart": ev.chart,
        "ts": rfc3339(ev.ts),
        "seq": ev.seq,
        "rule": ev.rule,
        "name": ev.name,
        "points": list(ev.points),
        "side": ev.side,
        "value": sig(ev.value),
        "phase": ev.phase,
        "event_id": violation_id(stream, ev),
    }


class SpcCharts:
    """Each chart's configuration, last point, limits and phase, as the events came in
    order; `document(chart)` is the chart state as published."""

    def __init__(self, infos: Mapping[str, SpcChartInfo] | None = None) -> None:
        self.infos = dict(infos or {})
        self.points: dict[str, SpcPoint] = {}
        self.limits: dict[str, dict[str, Any] | None] = {}
        self.phases: dict[str, str] = {}
        self._at: dict[str, datetime] = {}  # the time of the last limits change

    def take(self, ev: SpcPoint | SpcLimitsChange) -> None:
        """Remember `ev` (cheap: the document is built when asked for)."""
        if isinstance(ev, SpcPoint):
            self.points[ev.chart] = ev
            self.phases[ev.chart] = ev.phase
            return
        self.limits[ev.chart] = limits_document(ev)
        self.phases[ev.chart] = "II" if ev.action in FROZEN_ACTIONS else "I"
        self._at[ev.chart] = ev.ts

    def document(self, chart: str) -> dict[str, Any]:
        """The chart state: its latest point (nulls before any), the limits and phase
        now, the spec of the point's product."""
        p = self.points.get(chart)
        info = self.infos.get(chart)
        kind = p.kind if p is not None else info.kind if info is not None else None
        product = None if p is None else p.product
        spec = None if info is None else info.spec_for(product)
        ts = p.ts if p is not None else self._at.get(chart)
        return {
            "chart": chart,
            "name": chart if info is None else info.name,
            "kind": kind,
            "unit": None if info is None else info.unit,
            "tag": None if info is None else info.tag,
            "ts": _ts(ts),
            "seq": None if p is None else p.seq,
            "value": None if p is None else sig(p.value),
            "spread": None if p is None else sig(p.spread),
            "n": None if p is None else size(p.n),
            "center": None if p is None else sig(p.center),
            "ucl": None if p is None else sig(p.ucl),
            "lcl": None if p is None else sig(p.lcl),
            "zone": None if p is None else p.zone,
            "violations": [] if p is None else list(p.violations),
            "phase": self.phases.get(chart, "I"),
            "limits": self.limits.get(chart),
            "spec": None if spec is None else spec.document(),
            "product": product,
            "held": 0 if p is None else p.held,
        }

    def checkpoint(self, chart: str) -> str:
        """The chart's limits and phase as one meta value (JSON)."""
        return json.dumps(
            {"limits": self.limits.get(chart), "phase": self.phases.get(chart, "I"),
             "at": _ts(self._at.get(chart))},
            separators=(",", ":"),
        )  # fmt: skip

    def restore(self, meta: Mapping[str, str], prefix: str) -> int:
        """Take back the charts' limits saved under `prefix` + chart; how many."""
        n = 0
        for key, value in meta.items():
            if key.startswith(prefix):
                chart, doc = key[len(prefix) :], json.loads(value)
                self.limits[chart] = doc.get("limits")
                self.phases[chart] = doc.get("phase") or "I"
                if doc.get("at"):
                    self._at[chart] = datetime.fromisoformat(doc["at"])
                n += 1
        return n
