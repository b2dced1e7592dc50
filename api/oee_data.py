"""Where the OEE routes get their figures: a configured window's live ones from the live
view, or a `from`/`to` range's computed from stored history with `oee.compute`.

Both come as `OeeUpdate`s built by `OeeUpdate.of`, so one set of builders answers both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from api.context import ApiContext, ApiError, from_store
from api.history import check_span, limits
from api.offload import Cpu, run_job
from connectors.common.aio import gather_limited
from core.interfaces import HistoryReader
from core.types import CountDelta, LineOeeUpdate, OeeUpdate, StateRecord
from edge.config import Config, MachineConfig
from edge.engines.lines import LineSpec, line_update
from edge.engines.oee import HISTORY_QUERIES_AT_ONCE, ideal_cycle_s
from oee import Production, Transition, compute
from oee.calendar import Calendar, PlantDay, ShiftInstance
from oee.losses import OfflineTreatment

_MS = timedelta(milliseconds=1)
#: Rows a read may bring beyond what was counted just before it (written meanwhile).
_SLACK_ROWS = 1_000


@dataclass(frozen=True)
class Period:
    """A configured window (live figures) or a range [start, end) (figures from history),
    which may be a finished shift or plant day (`?shift=`, `?day=`)."""

    window: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    shift: ShiftInstance | None = None
    day: PlantDay | None = None

    @property
    def source(self) -> str:
        return "live" if self.window is not None else "history"


@dataclass(frozen=True)
class Figures:
    """The machines' figures of one period; `missing` have none yet (live only), `ended`
    have none because their shift has ended (the live `shift` window between shifts)."""

    period: Period
    updates: dict[str, OeeUpdate] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)

    @property
    def no_shift(self) -> bool:
        """No machine is in a shift: the `shift` window has nothing to show."""
        return bool(self.ended) and not self.updates

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The range of a history period; for a window, the span of the machines' windows."""
        if self.period.window is None:
            return self.period.start, self.period.end
        starts = [u.start for u in self.updates.values() if u.start is not None]
        ends = [u.ts for u in self.updates.values()]
        return min(starts, default=None), max(ends, default=None)


def resolve_period(
    ctx: ApiContext,
    window: str | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> Period:
    """The period a request asks for: `window` (default: the first configured), or
    `from` with an optional `to` (default: now), at most `api.limits.max_range_days`.
    Anything else is a 422 saying why."""
    windows = ctx.live.windows
    if window is not None and (start is not None or end is not None):
        raise ApiError(422, "give either `window` or `from`/`to`, not both")
    if start is None:
        if end is not None:
            raise ApiError(422, "`from` is required with `to`")
        name = window if window is not None else windows[0]
        if name not in windows:
            known = list(windows)
            raise ApiError(
                422, f"window '{name}' is not configured; configured: {', '.join(known)}", known
            )
        return Period(window=name)
    if end is None and start >= now:
        raise ApiError(422, "`from` must be earlier than now (`to` defaults to now)")
    stop = end if end is not None else now
    if start >= stop:
        raise ApiError(422, "`from` must be earlier than `to`")
    check_span(ctx, start, stop)
    return Period(start=start, end=stop)


async def gather(ctx: ApiContext, machines: Iterable[str], period: Period) -> Figures:
    """Each machine's figures of `period`: live, or computed from history (a history
    job, `api.offload`)."""
    if period.window is not None:
        return live_figures(ctx, machines, period)
    start, end = period.start, period.end
    assert start is not None and end is not None
    query = RangeQuery(
        machines={m: MachineInputs.of(ctx.config, m) for m in machines},
        start=start,
        end=end,
        until=min(end, ctx.clock()),
        budget=limits(ctx).max_history_rows,
    )
    updates = await run_job(ctx, range_job, query)
    if period.shift is not None or period.day is not None:  # the figures name it
        updates = {m: replace(u, shift=period.shift, day=period.day) for m, u in updates.items()}
    return Figures(period, updates)


@dataclass(frozen=True)
class MachineInputs:
    """What a machine's figures are computed with, besides its history."""

    config: MachineConfig
    calendar: Calendar
    offline_counts_as: OfflineTreatment

    @classmethod
    def of(cls, config: Config, machine: str) -> MachineInputs:
        return cls(
            config.machine(machine), config.calendar_for(machine), config.oee.offline_counts_as
        )


@dataclass(frozen=True)
class RangeQuery:
    """The figures of [start, end) of some machines (a history job's arguments): time
    after `until` (now) is unknown; at most `budget` stored rows may be read."""

    machines: dict[str, MachineInputs]
    start: datetime
    end: datetime
    until: datetime
    budget: int


async def range_job(reader: HistoryReader, cpu: Cpu, q: RangeQuery) -> dict[str, OeeUpdate]:
    """Each machine's figures of the range, after the rows are counted (a history job)."""
    rows = await _rows_within_budget(reader, q)
    ids = list(q.machines)
    # Side by side, as the engine's replay reads them (InfluxDB answers them in
    # parallel; the SQLite store takes them in turn on its read connection).
    updates = await gather_limited(
        HISTORY_QUERIES_AT_ONCE,
        lambda m: machine_history(reader, cpu, q, m, rows[m] + _SLACK_ROWS),
        ids,
    )
    return dict(zip(ids, updates, strict=True))


async def _rows_within_budget(reader: HistoryReader, q: RangeQuery) -> dict[str, int]:
    """Each machine's stored rows of the range, counted before any is read; a 422 when
    they are more than `api.limits.max_history_rows` together (a quarter of a busy
    machine's counts is millions of rows: seconds of CPU and hundreds of MB)."""

    def count(m: str) -> Awaitable[int]:
        return from_store(f"history of {m}", reader.history_rows(m, q.start, q.end + _MS))

    ids = list(q.machines)
    counted = await gather_limited(HISTORY_QUERIES_AT_ONCE, count, ids)
    total = sum(counted)
    if total > q.budget:
        raise ApiError(
            422,
            f"[from, to) holds {total} stored state changes and counts of {len(ids)} "
            f"machine(s), more than {q.budget} (api.limits.max_history_rows): "
            "ask for a shorter range",
        )
    return dict(zip(ids, counted, strict=True))


@dataclass(frozen=True)
class LineFigures:
    """A line's roll-up of one period (None: no machine has figures), and which machines
    were left out for want of figures (when there is no roll-up to list them)."""

    update: LineOeeUpdate | None
    missing: list[str] = field(default_factory=list)
    no_shift: bool = False  # the live `shift` window between shifts


async def line_figures(ctx: ApiContext, spec: LineSpec, period: Period) -> LineFigures:
    """The line's figures: a window's as the engine last published them (the live view
    keeps them), else rolled up from the machines' by `edge.engines.lines.line_update`, the
    function the engine uses; a range's from the machines' computed from history."""
    if period.window is not None and spec.line:  # (the plant's are never published)
        published = ctx.live.lines.get((spec.line, period.window))
        if published is not None and between_shifts(period.window, published):
            return LineFigures(None, no_shift=True)
        if published is not None:
            return LineFigures(published)
    fig = await gather(ctx, spec.machines, period)
    window = period.window or "range"
    update = line_update(spec, window, fig.updates, fig.missing)
    return LineFigures(update, fig.missing, fig.no_shift)


def between_shifts(window: str | None, u: OeeUpdate | LineOeeUpdate | None) -> bool:
    """Whether the live `shift` window's latest figures are those of a shift that has
    ended (the engine reports nothing between shifts)."""
    if window != "shift" or u is None:
        return False
    return u.shift is None or u.ts >= u.shift.end


def live_figures(ctx: ApiContext, machines: Iterable[str], period: Period) -> Figures:
    """The engine's latest update of the window per machine (with its loss report)."""
    assert period.window is not None
    out = Figures(period)
    for mid in machines:
        u = ctx.live.machines[mid].oee.get(period.window)
        if between_shifts(period.window, u):
            out.ended.append(mid)
        elif u is not None and u.report is not None:
            out.updates[mid] = u
        else:
            out.missing.append(mid)
    return out


async def machine_history(
    reader: HistoryReader, cpu: Cpu, q: RangeQuery, machine_id: str, limit: int
) -> OeeUpdate:
    """The figures of the range from the stored states and counts (each read at most
    `limit` rows). Counts count in (start, end]. A failing store is a 503."""
    what = f"history of {machine_id}"
    start, end = q.start, q.end
    # The store reads [start, end); a count at `end` itself still belongs to the range.
    states, counts = await asyncio.gather(
        from_store(what, reader.state_history(machine_id, start, end, limit)),
        from_store(what, reader.count_history(machine_id, start, end + _MS, limit)),
    )
    m = q.machines[machine_id]

    def run() -> OeeUpdate:
        r = compute(
            transitions(states),
            productions(m.config, counts, start, end),
            start=start,
            end=end,
            until=q.until,
            calendar=m.calendar,
            micro_stop_s=m.config.micro_stop_s,
            startup_s=m.config.startup_s,
            offline_counts_as=m.offline_counts_as,
        )
        return OeeUpdate.of(machine_id, r.name, start, end, r.report, r.pareto)

    # Pure but possibly long (a quarter of history): wherever `cpu` runs it.
    result: OeeUpdate = await cpu(run)
    return result


def transitions(records: Iterable[StateRecord]) -> list[Transition]:
    """Stored state changes as the library's transitions, oldest first."""
    ordered = sorted(records, key=lambda r: r.ts)
    return [
        Transition(r.ts, r.state, r.reason_code, r.reason, r.planned_kind is not None)
        for r in ordered
    ]


def productions(
    cfg: MachineConfig, counts: Iterable[CountDelta], start: datetime, end: datetime
) -> list[Production]:
    """The count deltas of (start, end], each with its product's ideal cycle time."""
    return [
        Production(c.ts, c.total, c.good, c.reject, ideal_cycle_s(cfg, c.product), c.product)
        for c in counts
        if start < c.ts <= end
    ]
