"""The SPC engine (a `core.interfaces.Engine`, `ENGINES["spc"]`): the `spc.charts` of the
config, live (docs/SPC.md "How readings become points").

It takes the raw `SampleBatch`es of the machines that have charts (`take_samples`, a
`core.interfaces.SampleObserver`: the gateway calls it only for those), their events
(`apply`: states, counts) and the emitted scrap bookings (`observe`). Readings become
subgroups (`edge.engines.spc_groups`), each closed subgroup a point judged against the
chart's limits with its run rules (`oee.spc`), and the points, violations and limit
changes go out with the next publication (`oee.publish_interval_s`) or at once after an
act through the API (`drain`). Phase I: no limits until `baseline_subgroups` points, then
trial limits computed once; frozen (`freeze`) or hand-set limits (`set_limits`, the
config's `limits`) are Phase II, never recomputed but by an explicit act. Limits, point
numbers and the rule tracker survive a restart in the outbox's checkpoints.

Implausible readings (outside `valid`, NaN, inf, not a number, uncertain quality) are
held out, counted in the next point's `held` and open an issue of the machine.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from core.interfaces import HistoryReader, IssueLog
from core.spc import SpcLimitsChange, SpcPoint
from core.types import (
    CountDelta,
    Event,
    MachineState,
    Quality,
    SampleBatch,
    ScrapBooked,
    StateChange,
    whole_ms,
)
from edge.config import Config
from edge.engines.spc_api import SpcActs
from edge.engines.spc_chart import Chart, Kept, LimitsMeta, subgroup_of
from edge.engines.spc_views import (
    ChartView,
    UnknownChart,
    checkpoint_key,
    config_limits,
    dump_chart,
    load_chart,
    view_of,
)
from oee.calendar import Calendar
from oee.spc import Limits, Subgroup, compute_limits

__all__ = ["SpcEngine"]

log = logging.getLogger("edge.spc")


# Single-part movements in a row after which missed per-part readings are no longer an issue.
STEADY = 100


class SpcEngine(SpcActs):
    """Every configured chart, fed and judged live."""

    name = "SPC"
    # The recent points kept in memory are read back from the store at a start.
    lookback = timedelta(days=7)

    def __init__(self, config: Config) -> None:
        self._charts: dict[str, Chart] = {
            c.id: Chart(c, max(100, c.baseline_subgroups * 4)) for c in config.spc.charts
        }
        self._of_machine: dict[str, list[Chart]] = {}
        for chart in self._charts.values():
            self._of_machine.setdefault(chart.config.machine, []).append(chart)
        self.machines = frozenset(self._of_machine)
        self._calendars: dict[str, Calendar] = {m: config.calendar_for(m) for m in self.machines}
        self._state: dict[str, MachineState] = {}
        self._moved: dict[str, datetime] = {}  # the machine's last counter movement
        self._issues: Mapping[str, IssueLog] = {}
        self._pending: list[Event] = []
        self._docs: dict[int, tuple[str, str]] = {}  # id(event) -> its chart's checkpoint
        self._applied: dict[str, Limits | None] = {}  # the config's hand limits applied
        self._announce: list[str] = []  # charts whose config limits go out at the next tick
        for chart in self._charts.values():
            self._apply_config_limits(chart, None)

    # --- what the gateway feeds -------------------------------------------------------

    def sampled(self) -> frozenset[str]:
        """The machines whose batches this engine takes (those with a chart)."""
        return self.machines

    def bind_issues(self, issues: Mapping[str, IssueLog]) -> None:
        """Where held-out readings are reported (each machine's open issues)."""
        self._issues = issues

    def take_samples(self, batch: SampleBatch) -> None:
        """The readings of one batch of a machine with charts on its tags."""
        charts = [c for c in self._of_machine.get(batch.machine, ()) if c.readings is not None]
        if not charts or self._state.get(batch.machine) is MachineState.OFFLINE:
            return
        values = batch.values()
        moved = self._moved.get(batch.machine) == whole_ms(batch.ts)
        for chart in charts:
            c = chart.config
            sample = values.get(c.tag or "")
            if sample is None or sample.quality is Quality.BAD or c.source != "tag":
                continue
            if c.subgroup.per_part and not moved:
                continue
            with self._contained(chart, batch.ts, "reading left out", clear=False):
                # whole ms: the points' times read back equal from the stores
                self._reading(chart, sample.value, whole_ms(sample.ts), sample.quality)

    def apply(self, event: object) -> None:
        """States (no readings while offline) and counts (per_part, p, np, u)."""
        machine = getattr(event, "machine", "")
        if machine not in self.machines:
            return
        if isinstance(event, StateChange):
            self._state[machine] = event.state
        elif isinstance(event, CountDelta):
            if event.total > 0:
                self._moved[machine] = event.ts
                self._parts_per_poll(machine, event.total, event.ts)
            for chart in self._of_machine[machine]:
                chart.product = event.product
                if chart.counts is not None and chart.config.kind != "c":
                    with self._contained(chart, event.ts, "count left out", clear=False):
                        closed = chart.counts.counted(event.total, event.reject, event.ts)
                        self._close(chart, closed)

    def _parts_per_poll(self, machine: str, parts: int, ts: datetime) -> None:
        """A per-part chart reads one part's value a poll: more parts since the last poll
        leave the others without a reading. Said as an open issue of the machine (not
        silently thinner subgroups), ended after `STEADY` single-part movements."""
        issues = self._issues.get(machine)
        for chart in self._of_machine[machine]:
            c = chart.config
            if not c.subgroup.per_part or c.source != "tag" or issues is None:
                continue
            key = f"spc/{c.id}/missed"
            if parts > 1:
                chart.missed, chart.steady = chart.missed + parts - 1, 0
                detail = (
                    f"SPC chart {c.id}: {chart.missed} part(s) without a reading of {c.tag}: "
                    f"the counter moved by {parts} between two polls and a poll reads one "
                    "part's value; poll faster than the parts come (poll_interval_s)"
                )
                issues.raise_(key, "per_part_missed", detail, ts)
            elif chart.missed:
                chart.steady += 1
                if chart.steady >= STEADY:
                    issues.clear(key)
                    chart.missed = 0

    def observe(self, events: Sequence[Event]) -> None:
        """Scrap booked by hand: defects of the c and u charts (of the chosen reasons)."""
        for e in events:
            if not isinstance(e, ScrapBooked) or e.machine not in self.machines:
                continue
            for chart in self._of_machine[e.machine]:
                c = chart.config
                if chart.counts is None or c.kind not in ("c", "u"):
                    continue
                if c.reasons is None or e.reason_code in c.reasons:
                    with self._contained(chart, e.ts, "scrap left out", clear=False):
                        self._close(chart, chart.counts.defects(e.quantity, e.ts))

    def publications(self, now: datetime) -> Iterator[list[Event]]:
        """The subgroups whose interval ended by `now`, then everything not yet out."""
        announced, self._announce = self._announce, []
        changes = [self._charts[c].limits_change(now) for c in announced]
        self._pending[:0] = changes  # the limits the points after them were judged by
        for chart in self._charts.values():
            collector = chart.readings or chart.counts
            if collector is not None:
                with self._contained(chart, now, "interval left out", clear=False):
                    self._close(chart, collector.due(now))
        pending = self.drain()
        if pending:
            yield pending

    def drain(self) -> list[Event]:
        """The points, violations and limit changes not yet handed out, in order (with
        each chart's checkpoint marked on its last event)."""
        out, self._pending = self._pending, []
        last: dict[str, Event] = {}
        for e in out:
            last[getattr(e, "chart", "")] = e
        for chart_id, e in last.items():
            chart = self._charts[chart_id]
            doc = dump_chart(chart, self._applied.get(chart_id))
            self._docs[id(e)] = (checkpoint_key(chart_id), doc)
        return out

    # --- restarts ---------------------------------------------------------------------

    def checkpoint(self, events: Sequence[Event]) -> dict[str, str]:
        """The charts' states as they stood after their last event among `events`."""
        out: dict[str, str] = {}
        for e in events:
            found = self._docs.pop(id(e), None)
            if found is not None:
                out[found[0]] = found[1]
        return out

    def restore(self, meta: Mapping[str, str]) -> None:
        """Take the checkpoints back (at start, before any event). Hand limits of the
        config that differ from those last applied are applied again (an edited file)."""
        for chart in self._charts.values():
            text = meta.get(checkpoint_key(chart.id))
            if text is None:
                continue
            try:
                applied = load_chart(chart, text)
            except (ValueError, KeyError, TypeError, AssertionError) as exc:
                log.error("SPC chart %s not restored: %s", chart.id, exc)
                continue
            if chart.id in self._announce:
                self._announce.remove(chart.id)
            self._apply_config_limits(chart, applied)

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None
    ) -> int:
        """The recent points of each chart from the store (baselines and the shift's
        capability need them), where the store keeps SPC points (`spc_points`)."""
        read = getattr(history, "spc_points", None)
        if read is None:
            return 0
        n = 0
        for chart in self._charts.values():
            points: list[SpcPoint] = await read(chart.id, now - self.lookback, now, chart.keep)
            for p in points[-chart.keep :]:
                kept = Kept(p.seq, subgroup_of(p), p.product, p.held)
                chart.recent.append(kept)
                if chart.config.variables:
                    self._moments(chart, kept.subgroup, p.product)
            if points and chart.last is None:  # the chart's state before the restart
                chart.last = points[-1]
            n += len(points)
        return n

    # --- readers ----------------------------------------------------------------------

    def limits_in_force(self) -> list[SpcLimitsChange]:
        """The limits of every chart that has some, as the change that set them (after
        `restore`: the live view's chart states start from these, as the alarms' do).
        Limits of the config not yet announced come with the first publication."""
        return [
            c.limits_change(None)
            for c in self._charts.values()
            if c.limits is not None and c.meta.at is not None and c.id not in self._announce
        ]

    def charts(self) -> list[ChartView]:
        """Every chart as it stands, in the config's order."""
        return [view_of(c) for c in self._charts.values()]

    def state(self, chart: str) -> ChartView:
        """One chart as it stands (UnknownChart)."""
        return view_of(self.chart(chart))

    def chart(self, chart: str) -> Chart:
        found = self._charts.get(chart)
        if found is None:
            raise UnknownChart(chart, list(self._charts))
        return found

    # --- inside -----------------------------------------------------------------------

    def _apply_config_limits(self, chart: Chart, applied: Limits | None) -> None:
        """The config's hand limits, unless they are the ones applied before a restart
        (the change goes out at the next tick, with its time)."""
        wanted = config_limits(chart.config)
        self._applied[chart.id] = wanted
        if wanted is None or wanted == applied:
            return
        chart.set_limits(wanted, LimitsMeta("manual", "config"))
        self._announce.append(chart.id)

    def _reading(self, chart: Chart, value: object, ts: datetime, quality: Quality) -> None:
        c = chart.config
        problem = None
        if isinstance(value, bool) or not isinstance(value, int | float):
            problem = f"{value!r} is not a number"
        elif not math.isfinite(value):
            problem = f"{value} is not a measurement"
        elif c.valid is not None and not c.valid.min <= value <= c.valid.max:
            problem = f"{value:g} is outside its physical range {c.valid.min:g}..{c.valid.max:g}"
        elif quality is not Quality.GOOD:
            problem = f"{value:g} is of {quality.value} quality"
        issues = self._issues.get(c.machine)
        key = f"spc/{c.id}"
        if problem is not None:
            chart.held += 1
            if issues is not None:
                detail = f"SPC chart {c.id}: tag {c.tag} = {problem}; held out of the chart"
                issues.raise_(key, "implausible_value", detail, ts)
            return
        if issues is not None:
            issues.clear(key)
        assert chart.readings is not None and isinstance(value, int | float)
        self._close(chart, chart.readings.add(float(value), ts))

    def _close(self, chart: Chart, subgroups: list[Subgroup]) -> None:
        for s in subgroups:
            with self._contained(chart, s.ts, "subgroup left out"):
                point, violations = chart.point(s)
                self._pending += [point, *violations]
                if chart.config.variables:
                    self._moments(chart, s, point.product)
                if chart.limits is None and chart.meta.action is None:
                    self._trial(chart, s.ts)

    @contextmanager
    def _contained(
        self, chart: Chart, at: datetime, what: str, clear: bool = True
    ) -> Iterator[None]:
        """A failure on one chart (a reading the statistics cannot take, e.g. x̄ of
        readings near 1e308 overflows) stays with that chart: an issue of its machine
        until the chart makes its next point, never an exception into the gateway."""
        c = chart.config
        issues, key = self._issues.get(c.machine), f"spc/{c.id}/error"
        try:
            yield
        except Exception as exc:
            log.warning("SPC chart %s: %s: %s: %s", c.id, what, type(exc).__name__, exc)
            if issues is not None:
                detail = f"SPC chart {c.id}: {type(exc).__name__}: {exc}; {what}"
                issues.raise_(key, "spc_error", detail, at)
            return
        if clear and issues is not None:  # the chart made its point again
            issues.clear(key)

    def _trial(self, chart: Chart, at: datetime) -> None:
        """Phase I trial limits, once, from the first `baseline_subgroups` points."""
        c = chart.config
        kept = chart.baseline(c.baseline_subgroups)
        if len(kept) < c.baseline_subgroups:
            return
        try:
            limits = compute_limits(c.kind, [k.subgroup for k in kept])  # type: ignore[arg-type]
        except ValueError as exc:
            issues = self._issues.get(c.machine)
            if issues is not None:
                detail = f"SPC chart {c.id}: no trial limits: {exc}"
                issues.raise_(f"spc/{c.id}/trial", "spc_limits", detail, at)
            return
        meta = LimitsMeta("trial", None, at, kept[0].subgroup.ts, kept[-1].subgroup.ts)
        self._pending.append(chart.set_limits(limits, meta))

    def _moments(self, chart: Chart, s: Subgroup, product: str | None) -> None:
        """Add to the running moments of the shift (day without shifts) holding `s`."""
        if chart.window is None or not chart.window[0] <= s.ts < chart.window[1]:
            cal = self._calendars[chart.config.machine]
            chart.window = cal.shift_window(s.ts) or cal.day_window(s.ts)
            chart.moments = {}
        chart.moments_for(product).add(s)
