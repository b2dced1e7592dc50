"""Turn raw tag batches into state changes and count deltas (one normaliser per machine).

State rules are tried in order and the first that matches wins; a rule whose input is
not good quality cannot be decided, so the machine is `offline` rather than guessed; a
code outside a rule's map is an open issue (`edge.pipeline.issues`) while it is read.

Counters survive wrap and reset (`edge.pipeline.counters`); a value no counter of its
width can hold is left out (an issue), and a movement the machine could not have made is
held as a `SuspectCount` instead of counted. The deltas of the configured counters add up
to the PLC's movements whatever order the counters move in (see `CountDelta`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.types import (
    CountDelta,
    MachineState,
    Quality,
    Sample,
    SampleBatch,
    StateChange,
    SuspectCount,
    whole_ms,
)
from edge.config import (
    BoolRule,
    CodeMapRule,
    CounterRule,
    MachineConfig,
    ReasonConfig,
    StateRule,
)
from edge.pipeline.counters import (
    CounterTracker,
    Limit,
    complete,
    counter_value,
    fastest_cycle_s,
)
from edge.pipeline.issues import Issues

_KINDS = ("total", "good", "reject")
Counted = CountDelta | SuspectCount


@dataclass
class NormaliserStats:
    """Counters of one machine's input (read by /metrics)."""

    counter_invalid: int = 0  # counter readings no counter of its width can hold
    counts_suspect: int = 0  # counter movements held as suspect
    state_code_unmapped: int = 0  # reads of a state code outside its rule's map


@dataclass
class _Decision:
    state: MachineState
    reason_code: int | None = None


@dataclass
class MachineNormaliser:
    """Keeps one machine's current state, counter baselines and event sequence numbers
        (`seq` for state changes, `count_seq` for count deltas, `reason_seq` for reasons given
        to its stops, `suspect_seq` for suspect counts, `decision_seq`, `scrap_seq` and
    `planned_seq` for the operator's changes), and the suspect counts not decided
        yet (`pending`). `edge.pipeline.checkpoint` saves and restores all of it across
        restarts.

        `reasons` gives the text of a PLC reason code: pass `Config.reasons_for(id)` (the
        plant's tree merged with the machine's); default: the machine's own entries.
    """

    config: MachineConfig
    reasons: Mapping[int, ReasonConfig] | None = field(default=None, kw_only=True)
    state: MachineState | None = None
    since: datetime | None = None
    seq: int = 0
    count_seq: int = 0
    reason_seq: int = 0
    suspect_seq: int = 0
    decision_seq: int = 0
    scrap_seq: int = 0
    planned_seq: int = 0
    last_ts: datetime | None = None  # the last batch that changed something
    product: str | None = None
    counters: dict[str, CounterTracker] = field(default_factory=dict)
    last_advance: dict[str, datetime] = field(default_factory=dict)
    pending: dict[int, SuspectCount] = field(default_factory=dict)  # by seq
    stats: NormaliserStats = field(default_factory=NormaliserStats, init=False)
    issues: Issues = field(init=False, repr=False)
    _texts: dict[int, str] = field(default_factory=dict, init=False, repr=False)
    _limit: Limit = field(init=False, repr=False)

    def __post_init__(self) -> None:
        reasons = self.config.reasons if self.reasons is None else self.reasons
        self._texts = {code: r.text for code, r in reasons.items()}
        self.issues = Issues(self.config.id)
        c = self.config.counters
        if c is not None:  # (no counters: nothing reads the limit)
            self._limit = Limit(fastest_cycle_s(self.config), c.suspect_factor, c.suspect_floor)
            for kind in _KINDS:
                if (rule := getattr(c, kind)) is not None:
                    self.counters[kind] = CounterTracker(rule.bits)

    def update(self, batch: SampleBatch) -> list[StateChange | Counted]:
        """Events caused by one batch: the parts counted first (made before the change)."""
        values = batch.values()
        self._update_product(values)
        events: list[StateChange | Counted] = []
        ts = whole_ms(batch.ts)
        delta = self._count(values, ts)
        if delta is not None:
            events.append(delta)
        decision = self._decide(values, batch)
        change = self._transition(decision, ts)
        if change is not None:
            events.append(change)
        if events:
            self.last_ts = ts
        return events

    def next_reason_seq(self) -> int:
        """The number of the next reason given to one of this machine's stops."""
        self.reason_seq += 1
        return self.reason_seq

    def go_offline(self, ts: datetime) -> StateChange | None:
        """Mark the machine offline (e.g. its source stopped) without a batch."""
        change = self._transition(_Decision(MachineState.OFFLINE), whole_ms(ts))
        if change is not None:
            self.last_ts = change.ts
        return change

    # ------------------------------------------------------------------ counts

    def _update_product(self, values: dict[str, Sample]) -> None:
        tag = self.config.product_tag
        s = values.get(tag) if tag else None
        if s is not None and s.quality is Quality.GOOD and s.value is not None:
            v = s.value
            self.product = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)

    def _count(self, values: dict[str, Sample], ts: datetime) -> Counted | None:
        readings = {kind: self._reading(kind, values, ts) for kind in self.counters}
        if any(raw is None and self.counters[k].last is not None for k, raw in readings.items()):
            return None  # all wait for a poll that reads every counter: none runs ahead
        deltas: dict[str, int] = {}
        over: tuple[str, int, float] | None = None  # the counter that moved too far
        for kind, raw in readings.items():
            tracker = self.counters[kind]
            if raw is None:
                continue
            first, elapsed = tracker.last is None, tracker.elapsed_s(ts)
            limit = None if elapsed is None else self._limit.parts(elapsed)
            d = tracker.update(raw, ts, limit)
            if first:
                continue  # a baseline: its movement before is unknown, not zero
            deltas[kind] = d
            if limit is not None and elapsed is not None and d > limit and over is None:
                over = (kind, limit, elapsed)
            if d:
                self.last_advance[kind] = ts
        return self._counted(ts, complete(deltas), over)

    def _counted(
        self, ts: datetime, counts: tuple[int, int, int], over: tuple[str, int, float] | None
    ) -> Counted | None:
        if counts == (0, 0, 0):
            return None
        if over is not None:
            return self._suspect(ts, counts, *over)
        self.count_seq += 1
        return CountDelta(self.config.id, ts, *counts, self.product, self.count_seq)

    def _reading(self, kind: str, values: dict[str, Sample], ts: datetime) -> int | None:
        """The counter's value in this batch, or None (not read, bad, or no count)."""
        rule = getattr(self.config.counters, kind)
        s = values.get(rule.tag)
        if s is None or s.quality is not Quality.GOOD:
            return None
        raw = counter_value(s.value, rule.bits)
        key = f"counter/{kind}"
        if raw is None:
            self.stats.counter_invalid += 1
            top = (1 << rule.bits) - 1
            detail = (
                f"counter {kind} read {s.value!r}, not a count of 0..{top} (bits: {rule.bits}): "
                "held out of the counts; is the tag signed, or `bits` wrong?"
            )
            self.issues.raise_(key, "counter_invalid", detail, ts)
            return None
        self.issues.clear(key)
        return raw

    def _suspect(
        self, ts: datetime, counts: tuple[int, int, int], counter: str, allowed: int, elapsed: float
    ) -> SuspectCount:
        self.suspect_seq += 1
        self.stats.counts_suspect += 1
        held = SuspectCount(
            self.config.id, ts, *counts, self.product, self.suspect_seq, counter, allowed, elapsed
        )
        self.pending[held.seq] = held
        return held

    def accepted(self, seq: int, ts: datetime) -> CountDelta:
        """The held suspect count `seq` accepted at `ts`: the delta that counts its parts
        now (the engines take events in time order; the reading's time stays in the
        suspect count). KeyError if no such suspect count waits."""
        held = self.pending.pop(seq)
        return self.corrected(ts, held.total, held.good, held.reject, held.product)

    def discarded(self, seq: int) -> SuspectCount:
        """The held suspect count `seq` discarded. KeyError if no such one waits."""
        return self.pending.pop(seq)

    def corrected(
        self, ts: datetime, total: int, good: int, reject: int, product: str | None = None
    ) -> CountDelta:
        """Parts counted by hand at `ts`, numbered like the PLC's."""
        self.count_seq += 1
        made = product if product is not None else self.product
        return CountDelta(self.config.id, whole_ms(ts), total, good, reject, made, self.count_seq)

    def next_decision_seq(self) -> int:
        """The number of the next hand decision on this machine's counts."""
        self.decision_seq += 1
        return self.decision_seq

    def next_scrap_seq(self) -> int:
        """The number of the next scrap booked by hand on this machine."""
        self.scrap_seq += 1
        return self.scrap_seq

    def next_planned_seq(self) -> int:
        """The number of the next stop of this machine turned into planned time (or back)."""
        self.planned_seq += 1
        return self.planned_seq

    # ------------------------------------------------------------------ state

    def _decide(self, values: dict[str, Sample], batch: SampleBatch) -> _Decision:
        if not self.config.state_rules and batch.error is not None:
            return _Decision(MachineState.OFFLINE)
        for rule in self.config.state_rules:
            decided = self._apply(rule, values, batch.ts)
            if decided is not None:
                return decided
        return _Decision(self.config.default_state)

    def _apply(self, rule: StateRule, values: dict[str, Sample], now: datetime) -> _Decision | None:
        if isinstance(rule, CounterRule):
            return self._apply_counter(rule, values, now)
        s = values.get(rule.tag)
        if s is None or s.quality is not Quality.GOOD:
            return _Decision(MachineState.OFFLINE)
        state: MachineState | None
        if isinstance(rule, CodeMapRule):
            state = self._mapped(rule, s)
        else:
            state = rule.state if bool(s.value) == rule.equals else None
        if state is None:
            return None
        return _Decision(state, _reason_code(values, rule))

    def _mapped(self, rule: CodeMapRule, s: Sample) -> MachineState | None:
        """The state `rule.map` gives the code `s` holds; a code it does not list is an
        issue (once per code) until the tag reads a listed one again."""
        code = _code(s.value)
        state = None if code is None else rule.map.get(code)
        prefix = f"state_code/{rule.tag}/"
        if state is not None:
            self.issues.clear_prefix(prefix)
            return state
        self.stats.state_code_unmapped += 1
        listed = ", ".join(map(str, sorted(rule.map)))
        detail = (
            f"tag {rule.tag} read {s.value!r}, a code its state map does not list ({listed}): "
            "the next rule or `default_state` decides"
        )
        self.issues.raise_(prefix + str(code), "state_code_unmapped", detail, s.ts)
        return None

    def _apply_counter(
        self, rule: CounterRule, values: dict[str, Sample], now: datetime
    ) -> _Decision | None:
        assert self.config.counters is not None  # guaranteed by MachineConfig validation
        s = values.get(getattr(self.config.counters, rule.counter).tag)
        if s is None or s.quality is not Quality.GOOD:
            return _Decision(MachineState.OFFLINE)
        last = self.last_advance.get(rule.counter)
        if last is not None and now - last <= timedelta(seconds=rule.within_s):
            return _Decision(rule.state)
        return None

    def _transition(self, d: _Decision, ts: datetime) -> StateChange | None:
        if d.state is self.state:
            return None
        previous, since = self.state, self.since
        self.state, self.since, self.seq = d.state, ts, self.seq + 1
        duration = (ts - since).total_seconds() if since is not None else None
        return StateChange(
            machine=self.config.id, state=d.state, previous=previous, ts=ts,
            since_previous=since, duration_s=duration, seq=self.seq,
            reason_code=d.reason_code, reason=self._reason_text(d.reason_code),
        )  # fmt: skip

    def _reason_text(self, code: int | None) -> str | None:
        return None if code is None else self._texts.get(code, str(code))


def _reason_code(values: dict[str, Sample], rule: CodeMapRule | BoolRule) -> int | None:
    if rule.reason_tag is None:
        return None
    s = values.get(rule.reason_tag)
    if s is None or s.quality is not Quality.GOOD:
        return None
    return _code(s.value) or None  # 0 means "no reason" on every PLC we have met


def _code(value: object) -> int | None:
    """A PLC code as an int (a float that is a whole number too), else None."""
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    return int(value) if isinstance(value, int) else None
