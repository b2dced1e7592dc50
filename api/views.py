"""Pure builders from the live view / history records to response models (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from api.oee_views import oee_out, window_brief
from api.output_views import output_out
from api.schemas import (
    Counts,
    IssueOut,
    MachineDetail,
    MachineSummary,
    ProductEntry,
    ReadyOut,
    StateInterval,
    StatesOut,
)
from core.types import StateRecord
from edge.config import MachineConfig
from edge.pipeline.live import LiveView, MachineLive


def _base_fields(m: MachineLive) -> dict[str, object]:
    """The fields shared by the summary and the detail of a machine."""
    sc = m.state
    return {
        "id": m.ref.machine,
        "name": m.name,
        "path": m.ref.path,
        "site": m.ref.site,
        "area": m.ref.area,
        "line": m.ref.line,
        "state": sc.state if sc else None,
        "since": sc.ts if sc else None,
        "reason": sc.reason if sc else None,
        "reason_code": sc.reason_code if sc else None,
        "product": m.product,
        "product_name": m.product_names.get(m.product) if m.product is not None else None,
        "counts": Counts(total=m.total, good=m.good, reject=m.reject),
        "issues": [
            IssueOut(kind=i.kind, detail=i.detail, since=i.since, last=i.last, count=i.count)
            for i in (m.issues.open() if m.issues is not None else [])
        ],
        "suspects": len(m.suspects),
        "alarms": len(m.alarms),
    }


def machine_summary(m: MachineLive, windows: Sequence[str]) -> MachineSummary:
    """One entry of the machine list, with the latest ratios of every configured window."""
    oee = {w: window_brief(m.oee.get(w), w) for w in windows}
    return MachineSummary(oee=oee, output=output_out(m.output), **_base_fields(m))  # type: ignore[arg-type]


def machine_detail(
    m: MachineLive, cfg: MachineConfig, windows: Sequence[str], now: datetime
) -> MachineDetail:
    """The full view of one machine; `now` gives the time spent in the current state."""
    sc = m.state
    oee = {w: oee_out(m.ref.machine, w, m.oee.get(w)) for w in windows}
    return MachineDetail(
        state_duration_s=max(0.0, (now - sc.ts).total_seconds()) if sc else None,
        previous=sc.previous if sc else None,
        previous_duration_s=sc.duration_s if sc else None,
        seq=sc.seq if sc else None,
        last_seen=m.last_seen,
        ideal_cycle_s=cfg.ideal_cycle_s,
        micro_stop_s=cfg.micro_stop_s,
        oee=oee,
        output=output_out(m.output),
        products=[ProductEntry(code=k, name=p.name) for k, p in cfg.products.items()],
        **_base_fields(m),  # type: ignore[arg-type]
    )


def build_intervals(
    records: Sequence[StateRecord], start: datetime, end: datetime, now: datetime
) -> list[StateInterval]:
    """Turn state records (oldest first) into intervals clipped to [start, min(end, now)].

    Each record lasts until the next one; the last lasts until the range ends or now,
    whichever is first (a state cannot be known to last into the future). Intervals
    that clip to nothing are dropped, e.g. a record before `start` that was replaced
    exactly at `start`.
    """
    stop = min(end, now)
    out: list[StateInterval] = []
    ordered = sorted(records, key=lambda r: r.ts)
    for i, rec in enumerate(ordered):
        until = ordered[i + 1].ts if i + 1 < len(ordered) else stop
        s, e = max(rec.ts, start), min(until, stop)
        if e <= s:
            continue
        # Milliseconds, like the timestamps: sub-ms digits are noise from float clocks.
        duration = round((e - s).total_seconds(), 3)
        out.append(
            StateInterval(
                state=rec.state,
                start=s,
                end=e,
                duration_s=duration,
                reason=rec.reason,
                reason_code=rec.reason_code,
                planned_kind=rec.planned_kind,
                planned_reason=rec.planned_reason,
            )
        )
    return out


def states_page(
    machine: str,
    records: Sequence[StateRecord],
    start: datetime,
    end: datetime,
    now: datetime,
    page: int,
) -> StatesOut:
    """The answer of the states route from the records read (the one in force at
    `start`, then at most `page` + 1 of the range): at most `page` intervals, and where
    the next page begins when there is more."""
    inside = [r for r in records if r.ts >= start]
    more = len(inside) > page
    # With more rows than a page, the last one read only says where the page ends.
    stop = inside[-1].ts if more else end
    intervals = build_intervals(records[:-1] if more else records, start, stop, now)
    next_from = stop if more else None
    if len(intervals) > page:  # the state in force at `start` took a place
        next_from, intervals = intervals[page].start, intervals[:page]
    return StatesOut(machine=machine, from_=start, to=end, intervals=intervals, next_from=next_from)


def readiness(live: LiveView) -> ReadyOut:
    """What `/ready` reports: each missing part is named in `not_ready`."""
    without = sorted(mid for mid, m in live.machines.items() if m.state is None)
    sinks = dict(live.sinks_connected())
    not_ready: list[str] = []
    if not live.started:
        not_ready.append("pipeline not started")
    if without:
        not_ready.append("no state yet: " + ", ".join(without))
    down = sorted(name for name, ok in sinks.items() if not ok)
    if down:
        not_ready.append("sinks not connected: " + ", ".join(down))
    failing = live.failing()
    if failing:
        not_ready.append("pipeline failing for: " + ", ".join(failing))
    problems = dict(sorted(live.sink_problems().items()))
    not_ready += [f"sink {name}: {problem}" for name, problem in problems.items()]
    return ReadyOut(
        ready=not not_ready,
        started=live.started,
        machines_without_state=without,
        sinks=sinks,
        machines_failing=failing,
        sink_problems=problems,
        not_ready=not_ready,
    )
