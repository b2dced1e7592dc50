"""The alarm engine (a `core.interfaces.Engine`, in `edge.pipeline.components.ENGINES`):
evaluates the `alarms.rules` of the config (pure rules of `oee.alarms`) on every machine
event, every OEE figure, every held count and every SPC point and violation, and raises,
acknowledges and clears alarms as `AlarmChange` events, which the gateway emits like any
other (outbox, MQTT, store, InfluxDB, webhook, the live view).

Times are exact: a rule's alarm is raised at the instant its condition crossed its
threshold and cleared at the event that ended it; the changes go out with the next
publication (`oee.publish_interval_s`) or an acknowledgement. The active alarms and each
machine's `seq` survive a restart in the outbox's checkpoints (`checkpoint`/`restore`),
written in the same transaction as the changes themselves.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from connectors.common.alarmdoc import alarm_document, alarm_from_document
from core.alarms import Alarm, AlarmChange, ChangeKind, alarm_id
from core.interfaces import HistoryReader
from core.orders import OrderProgress
from core.spc import SpcPoint, SpcViolation
from core.types import (
    CountDecision,
    Event,
    OeeUpdate,
    ReasonAssigned,
    StateChange,
    SuspectCount,
)
from edge.config import Config
from oee.alarms import MachineView, Rule, SpcRule, WindowFigures, transitions
from oee.orderwatch import watch
from oee.spcwatch import SpcHit, SpcTrack

log = logging.getLogger("edge.alarms")
CHECKPOINT_VERSION = 1
_RATIOS = ("oee", "availability", "performance", "quality")


class UnknownAlarm(KeyError):
    """No active alarm has this id."""


class AlreadyAcknowledged(ValueError):
    """The alarm was acknowledged before."""


def checkpoint_key(machine: str) -> str:
    """The outbox meta key of `machine`'s active alarms."""
    return f"alarms/{machine}"


class AlarmEngine:
    """Every machine's alarms under the configured rules."""

    name = "alarms"
    # The state in force at a restart is found in the stored states of this long.
    lookback = timedelta(hours=26)

    def __init__(self, config: Config) -> None:
        self._rules: dict[str, list[Rule]] = {}
        self._views: dict[str, MachineView] = {}
        self._horizon: dict[str, int] = {}  # how many points SPC rules look back
        for m in config.machines:
            line = config.line_of(m.id)
            rules = [r.to_rule() for r in config.alarms.rules if r.applies_to(m.id, line)]
            self._rules[m.id] = rules
            self._views[m.id] = MachineView(m.name or m.id)
            spc = [r.clear_after for r in rules if isinstance(r, SpcRule)]
            self._horizon[m.id] = max(spc, default=0)
        self._charts = _chart_labels(config)
        self._active: dict[str, dict[str, Alarm]] = {m: {} for m in self._views}
        self._seq = dict.fromkeys(self._views, 0)
        self._pending: list[AlarmChange] = []
        self._replaying = False
        self._restored: set[str] = set()  # machines whose alarms came from a checkpoint

    # --- what the gateway feeds ---------------------------------------------------

    def apply(self, event: object) -> None:
        """A state change or a stop's reason (counts do not matter to any rule yet)."""
        view = self._views.get(getattr(event, "machine", ""))
        if view is None:
            return
        if isinstance(event, StateChange):
            self._step(event.machine, event.ts)  # what fell due before the change
            view.state, view.since = event.state, event.ts
            view.reason_code, view.reason = event.reason_code, event.reason
            self._step(event.machine, event.ts)
        elif isinstance(event, ReasonAssigned) and view.since == event.stop_ts:
            view.reason_code, view.reason = event.reason_code, event.reason
            self._step(event.machine, event.ts)

    def observe(self, events: Sequence[Event]) -> None:
        """Every emitted event: OEE figures, held or decided counts, SPC points and order
        progress are what it needs."""
        for e in events:
            view = self._views.get(getattr(e, "machine", ""))
            if view is None:
                continue
            if isinstance(e, OeeUpdate):
                view.figures[e.window] = _figures(e)
            elif isinstance(e, SuspectCount):
                view.suspects[e.seq] = e.ts
            elif isinstance(e, CountDecision) and e.suspect_seq is not None:
                view.suspects.pop(e.suspect_seq, None)
            elif isinstance(e, SpcPoint | SpcViolation) and self._horizon[e.machine]:
                self._spc(view, e)
            elif isinstance(e, OrderProgress):
                o, status = e.order, e.progress.status if e.progress else None
                due = o.due if o is not None else None
                view.order = watch(view.order, o.id if o else None, due, status, e.ts)
            else:
                continue
            self._step(e.machine, e.ts)

    def publications(self, now: datetime) -> Iterator[list[AlarmChange]]:
        """The changes due at `now` and those the events made since the last call."""
        for machine in self._views:
            self._step(machine, now)
        pending = self.drain()
        if pending:
            yield pending

    def drain(self) -> list[AlarmChange]:
        """The changes not yet handed out, in order."""
        out, self._pending = self._pending, []
        return out

    # --- operators and readers ----------------------------------------------------

    def acknowledge(self, ident: str, by: str, now: datetime) -> AlarmChange:
        """`by` acknowledges the active alarm `ident` at `now` (the change is pending:
        `drain` hands it out after any change before it). UnknownAlarm, AlreadyAcknowledged."""
        for machine, active in self._active.items():
            for rule, alarm in active.items():
                if alarm.id != ident:
                    continue
                if alarm.acked_by is not None:
                    raise AlreadyAcknowledged(
                        f"alarm '{ident}' was acknowledged by {alarm.acked_by} "
                        f"at {alarm.acked_at:%Y-%m-%dT%H:%M:%S}Z"
                    )
                acked = dataclasses.replace(alarm, acked_by=by, acked_at=now)
                active[rule] = acked
                return self._change(machine, now, "acknowledged", acked)
        raise UnknownAlarm(ident)

    def active(self, machine: str | None = None) -> list[Alarm]:
        """The active alarms (of one machine), oldest first."""
        machines = [machine] if machine is not None else list(self._active)
        found = [a for m in machines for a in self._active.get(m, {}).values()]
        return sorted(found, key=lambda a: (a.raised, a.machine, a.rule))

    def active_counts(self) -> dict[str, int]:
        """How many alarms each machine has active."""
        return {m: len(a) for m, a in self._active.items()}

    # --- restarts -----------------------------------------------------------------

    def checkpoint(self, events: Sequence[Event]) -> dict[str, str]:
        """The outbox meta to commit with `events`: each machine's active alarms and
        `seq` after its last change among them."""
        out = {}
        for e in events:
            if isinstance(e, AlarmChange):
                doc = {"v": CHECKPOINT_VERSION, "seq": e.seq,
                       "active": [alarm_document(a) for a in e.active]}  # fmt: skip
                out[checkpoint_key(e.machine)] = json.dumps(doc, separators=(",", ":"))
        return out

    def restore(self, meta: Mapping[str, str]) -> None:
        """Take the checkpoints back (at start, before any event)."""
        for machine in self._views:
            text = meta.get(checkpoint_key(machine))
            if text is None:
                continue
            try:
                doc = json.loads(text)
                if doc.get("v") != CHECKPOINT_VERSION:
                    raise ValueError(f"version {doc.get('v')!r}")
                alarms = [alarm_from_document(d) for d in doc["active"]]
                seq = int(doc["seq"])
            except (ValueError, KeyError, TypeError, AssertionError) as exc:
                log.error("active alarms of %s not restored: %s", machine, exc)
                continue
            self._seq[machine] = seq
            self._active[machine] = {a.rule: a for a in alarms}
            if alarms:
                self._restored.add(machine)

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None
    ) -> int:
        """The state each machine was in, and since when, from the stored states (the
        alarms themselves come from the checkpoint): no change is made while replaying."""
        self._replaying = True
        n = 0
        try:
            for machine in self._views:
                states = await history.state_history(machine, now - self.lookback, now)
                for s in states:
                    self.apply(StateChange(machine, s.state, None, s.ts, None, None, 0,
                                           s.reason_code, s.reason))  # fmt: skip
                n += len(states)
        finally:
            self._replaying = False
        return n

    def _spc(self, view: MachineView, e: SpcPoint | SpcViolation) -> None:
        """A chart's point or violation: the chart's latest seq and recent violations."""
        track = view.spc.get(e.chart)
        if track is None:
            label, unit = self._charts.get(e.chart, (e.chart, None))
            restored = e.machine in self._restored
            track = view.spc[e.chart] = SpcTrack(label, unit, restored=restored)
        track.saw(e.seq)
        if isinstance(e, SpcViolation):
            track.hits.append(SpcHit(e.seq, e.ts, e.rule, e.name, e.value, e.phase))
        track.forget(self._horizon[e.machine])

    # --- the transitions ------------------------------------------------------------

    def _step(self, machine: str, at: datetime) -> None:
        if self._replaying:
            return
        active = self._active[machine]
        rules = self._rules[machine]
        for t in transitions(rules, self._views[machine], active, at):
            if t.condition is None:
                self._clear(machine, t.rule.name, at)
                continue
            c = t.condition
            alarm = Alarm(
                alarm_id(machine, t.rule.name, c.since), machine, t.rule.name, t.rule.kind,
                t.rule.severity,  # type: ignore[arg-type]  # validated by the config
                f"{self._views[machine].name}: {c.detail}", c.since, value=c.value,
            )  # fmt: skip
            active[t.rule.name] = alarm
            self._change(machine, c.since, "raised", alarm)
        names = {r.name for r in rules}
        for gone in [r for r in active if r not in names]:  # a rule removed from the config
            self._clear(machine, gone, at)

    def _clear(self, machine: str, rule: str, at: datetime) -> None:
        alarm = self._active[machine].pop(rule)
        cleared = dataclasses.replace(alarm, cleared=max(at, alarm.raised))
        self._change(machine, cleared.cleared or at, "cleared", cleared)

    def _change(self, machine: str, at: datetime, kind: ChangeKind, alarm: Alarm) -> AlarmChange:
        self._seq[machine] += 1
        active = tuple(self.active(machine))
        change = AlarmChange(machine, at, kind, alarm, active, self._seq[machine])
        self._pending.append(change)
        return change


def _chart_labels(config: Config) -> dict[str, tuple[str, str | None]]:
    """Each SPC chart's name (else its id) and unit, as its alarms' messages show them."""
    return {c.id: (c.title, c.unit) for c in config.spc.charts}


def _figures(e: OeeUpdate) -> WindowFigures:
    coverage = e.report.coverage if e.report is not None else None
    if coverage is None and e.window_s > 0:
        coverage = (e.window_s - e.unknown_s) / e.window_s
    ratios = {r: getattr(e, r) for r in _RATIOS}
    return WindowFigures(e.ts, ratios, coverage)
