"""What the API asks of the SPC engine (spec: issue 18 §7): freeze limits from a Phase I
baseline (a range of time or the last N points, some excluded), set limits by hand,
unfreeze, hand readings of `manual` charts and capability. All synchronous, time passed
in; the changes wait in the engine's pending events: the caller emits `drain()`.

The engine keeps the last `max(100, 4 × baseline_subgroups)` subgroups of each chart in
memory; a baseline or capability range reaching further back is read by the API from the
store (`SpcHistory.spc_points`, off the event loop) and passed in as `stored`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Sequence
from datetime import datetime

from core.spc import SpcLimitsChange, SpcPoint, SpcViolation
from core.types import Event, whole_ms
from edge.engines.spc_chart import Chart, Kept, LimitsMeta, subgroup_of
from edge.engines.spc_views import Baseline, BaselineError
from oee.spc import (
    Capability,
    Limits,
    Subgroup,
    capability,
    capability_from,
    compute_limits,
    evaluate,
    judge,
)

__all__ = ["SpcActs"]


class SpcActs:
    """The engine's acts for the API (mixed into `SpcEngine`)."""

    _pending: list[Event]

    def chart(self, chart: str) -> Chart:  # the engine's lookup (UnknownChart)
        raise NotImplementedError

    def _close(self, chart: Chart, subgroups: list[Subgroup]) -> None:
        raise NotImplementedError

    def freeze(
        self,
        chart: str,
        start: datetime | None,
        end: datetime | None,
        last: int | None,
        exclude: Collection[int],
        by: str,
        now: datetime,
        preview: bool,
        stored: Sequence[SpcPoint] = (),
    ) -> Baseline:
        """Limits from the baseline [start, end) or the last `last` points, those numbered
        in `exclude` left out (an assignable cause); its points judged against them and
        the rules they break. Not a preview: the limits are frozen (Phase II), by `by`
        at `now`. BaselineError when the baseline cannot give limits."""
        c, now = self.chart(chart), whole_ms(now)  # as the stores keep times
        kept = _baseline(c, start, end, last, stored)
        seqs = [k.seq for k in kept]
        unknown = sorted(set(exclude) - set(seqs))
        if unknown:
            raise BaselineError(
                f"exclude: points {', '.join(map(str, unknown))} are not in the baseline "
                f"(points {seqs[0]}..{seqs[-1]}): exclude only points of it"
            )
        left_out = [i for i, s in enumerate(seqs) if s in exclude]
        try:
            limits = compute_limits(c.config.kind, [k.subgroup for k in kept], left_out)  # type: ignore[arg-type]
        except ValueError as exc:
            raise BaselineError(str(exc)) from None
        points, violations = _judged(c, kept, limits)
        first, final = kept[0].subgroup.ts, kept[-1].subgroup.ts
        excluded = tuple(sorted(set(exclude)))
        change = None
        if not preview:
            meta = LimitsMeta("frozen", by, now, first, final, excluded)
            change = c.set_limits(limits, meta)
            self._pending.append(change)
        return Baseline(c.id, limits, points, violations, excluded, first, final, change)

    def set_limits(self, chart: str, limits: Limits, by: str, now: datetime) -> SpcLimitsChange:
        """Limits set by hand (Phase II). BaselineError if they do not fit the chart."""
        c, now = self.chart(chart), whole_ms(now)
        if limits.kind != c.config.kind:
            raise BaselineError(f"chart {chart} is a {c.config.kind} chart, not {limits.kind}")
        if not limits.lcl < limits.center < limits.ucl:
            raise BaselineError("limits: lcl < center < ucl must hold: give them in order")
        limits = dataclasses.replace(limits, source="manual")
        change = c.set_limits(limits, LimitsMeta("manual", by, now))
        self._pending.append(change)
        return change

    def unfreeze(self, chart: str, by: str, now: datetime) -> SpcLimitsChange:
        """Back to Phase I: no limits; trial limits again from the next points."""
        c = self.chart(chart)
        change = c.set_limits(None, LimitsMeta(None, by, whole_ms(now)))
        self._pending.append(change)
        return change

    def measure(
        self, chart: str, values: Sequence[float], ts: datetime, by: str
    ) -> SpcPoint | None:
        """Readings entered by hand on a `manual` chart at `ts`; the last point they
        closed (None: the subgroup is not full yet). BaselineError for a chart of
        another source or a value that cannot be a reading (refused, not held: a person
        can correct it at once)."""
        del by  # the readings are the chart's; who entered them is in the audit
        c = self.chart(chart)
        cfg = c.config
        if cfg.source != "manual" or c.readings is None:
            raise BaselineError(f"chart {chart} reads {cfg.source}, not readings by hand")
        for i, v in enumerate(values):
            if not math.isfinite(v) or (cfg.valid and not cfg.valid.min <= v <= cfg.valid.max):
                span = f" {cfg.valid.min:g}..{cfg.valid.max:g}" if cfg.valid else ""
                raise BaselineError(
                    f"values[{i}]: {v:g} is outside the physical range{span} of chart "
                    f"{chart}: check the reading"
                )
        before, ts = c.seq, whole_ms(ts)
        for v in values:
            self._close(c, c.readings.add(float(v), ts))
        return c.last if c.seq > before else None

    def capability(
        self,
        chart: str,
        start: datetime | None = None,
        end: datetime | None = None,
        stored: Sequence[SpcPoint] = (),
    ) -> Capability:
        """Capability of `chart` over [start, end) (default: the current shift).
        The current shift comes from the running moments (per product, its spec); another
        range from the points of [start, end) (memory, else `stored`). BaselineError for
        an attributes chart, one without a spec or a range without points."""
        c = self.chart(chart)
        cfg = c.config
        if not cfg.variables:
            raise BaselineError(f"capability is for variables charts; {chart} is {cfg.kind}")
        spec = cfg.spec_for(c.product)
        if spec is None:
            raise BaselineError(f"chart {chart} has no spec: give it spc.charts[].spec")
        if (start is None and end is None) or (start, end) == c.window:
            return capability_from(c.moments_for(c.product), cfg.kind, spec)  # type: ignore[arg-type]
        kept = _baseline(c, start, end, None, stored)
        return capability(cfg.kind, [k.subgroup for k in kept], spec)  # type: ignore[arg-type]


def _baseline(
    c: Chart, start: datetime | None, end: datetime | None, last: int | None,
    stored: Sequence[SpcPoint],
) -> list[Kept]:  # fmt: skip
    by_seq = {p.seq: Kept(p.seq, subgroup_of(p), p.product, p.held) for p in stored}
    by_seq.update({k.seq: k for k in c.recent})  # memory wins over the store
    kept = [by_seq[s] for s in sorted(by_seq)]
    if last is not None:
        chosen = kept[-last:]
    else:
        chosen = [
            k for k in kept
            if (start is None or k.subgroup.ts >= start) and (end is None or k.subgroup.ts < end)
        ]  # fmt: skip
    if not chosen:
        raise BaselineError(f"chart {c.id} has no points in the baseline: choose another range")
    return chosen


def _judged(
    c: Chart, kept: list[Kept], limits: Limits
) -> tuple[tuple[SpcPoint, ...], tuple[SpcViolation, ...]]:
    cfg, rules = c.config, c.config.rules.to_rules()
    judged, previous = [], None
    for k in kept:
        judged.append(judge(cfg.kind, k.subgroup, limits, previous))  # type: ignore[arg-type]
        previous = k.subgroup if cfg.kind == "imr" else None
    seqs = [k.seq for k in kept]
    found = evaluate(judged, rules, seqs)
    by_seq: dict[int, list[str]] = {}
    violations = []
    for i, v in found:  # i: the index of the point that completed the pattern
        seq, p = seqs[i], judged[i]
        by_seq.setdefault(seq, []).append(v.rule)
        violations.append(SpcViolation(
            cfg.id, cfg.machine, p.ts, seq, v.rule, v.name, v.points, v.side, p.value, "I",
        ))  # fmt: skip
    points = tuple(
        SpcPoint(
            cfg.id,
            cfg.machine,
            p.ts,
            k.seq,
            cfg.kind,
            p.value,
            p.spread,
            p.n,
            p.center,
            p.ucl,
            p.lcl,
            p.zone,
            "I",
            tuple(by_seq.get(k.seq, ())),
            k.subgroup.values,
            k.product,
            k.held,
        )  # fmt: skip
        for k, p in zip(kept, judged, strict=True)
    )
    return points, tuple(violations)
