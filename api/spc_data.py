"""The SPC history jobs (`api.offload`: a worker reads the store and builds the answer off
the event loop): a chart's points and violations of a range, the capability of a range,
and the stored points a baseline is computed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.context import ApiError, from_store
from api.history import json_bytes
from api.offload import Cpu
from api.spc_schemas import CapabilityOut, ChartOut
from api.spc_views import (
    capability_document,
    capability_flags,
    point_document,
    violation_document,
)
from core.interfaces import HistoryReader, SpcHistory
from core.spc import SpcPoint
from oee.spc import Spec, Subgroup, capability

__all__ = ["ChartQuery", "Specs", "capability_job", "chart_job", "points_job"]

_NO_SPC = "the history store keeps no SPC points for the API"


@dataclass(frozen=True)
class ChartQuery:
    """A chart's range [start, end), at most `limit` points (the latest)."""

    chart: str
    start: datetime
    end: datetime
    limit: int


def _spc(reader: HistoryReader) -> SpcHistory:
    if not isinstance(reader, SpcHistory):
        raise ApiError(501, _NO_SPC)
    return reader


async def points_job(reader: HistoryReader, cpu: Cpu, q: ChartQuery) -> list[SpcPoint]:
    """The stored points of the range (for a baseline), oldest first."""
    del cpu
    store = _spc(reader)
    return await from_store("SPC points", store.spc_points(q.chart, q.start, q.end, q.limit))


async def chart_job(reader: HistoryReader, cpu: Cpu, q: ChartQuery, head: dict[str, Any]) -> bytes:
    """`head` (the chart state, rules, zones) with the range's points and violations."""
    store = _spc(reader)
    points = await from_store("SPC points", store.spc_points(q.chart, q.start, q.end, q.limit))
    # The points are the latest `limit`: the violations those of the same span.
    since = points[0].ts if len(points) == q.limit else q.start
    found = await from_store("SPC violations", store.spc_violations(q.chart, since, q.end))

    def build() -> bytes:
        body = {
            **head, "points": [point_document(p) for p in points],
            "violations": [violation_document(v) for v in found],
            "from": q.start, "to": q.end, "count": len(points),
            "held": sum(p.held for p in points),
        }  # fmt: skip
        return json_bytes(ChartOut.model_validate(body))

    return await cpu(build)


@dataclass(frozen=True)
class Specs:
    """A chart's spec limits: per product where configured, else the chart's own."""

    default: Spec | None
    products: dict[str, Spec]

    def of(self, product: str | None) -> Spec | None:
        return self.products.get(product, self.default) if product is not None else self.default


async def capability_job(
    reader: HistoryReader, cpu: Cpu, q: ChartQuery, kind: str, specs: Specs, product: str | None
) -> bytes:
    """Capability of the readings held to the product's spec among the range's points:
    a product without a spec of its own (or a point made before the product was known)
    shares the chart's, and so its readings."""
    store = _spc(reader)
    spec = specs.of(product)
    assert spec is not None  # the route answers 422 without one
    points = await from_store("SPC points", store.spc_points(q.chart, q.start, q.end, q.limit))
    chosen = [p for p in points if specs.of(p.product) == spec]
    if not chosen:
        raise ApiError(404, f"chart {q.chart} has no points of this product in the range")
    found = await from_store(
        "SPC violations", store.spc_violations(q.chart, q.start, q.end, q.limit)
    )
    broken = len({v.seq for v in found if v.seq in {p.seq for p in chosen}})

    def build() -> bytes:
        groups = [Subgroup(p.ts, p.values) for p in chosen if p.values]
        try:
            cap = capability(kind, groups, spec)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ApiError(422, f"capability of chart {q.chart}: {exc}") from None
        doc = capability_document(cap, spec, q.chart, (q.start, q.end), product)
        doc["flags"] = capability_flags(cap.subgroups, broken, sum(p.held for p in chosen))
        return json_bytes(CapabilityOut.model_validate(doc))

    return await cpu(build)
