"""Turn raw tag batches into state changes and count deltas (one normaliser per machine).

State rules are tried in order and the first that matches wins; a rule whose input is
not good quality cannot be decided, so the machine is `offline` rather than guessed.
Counters survive wrap and reset and never yield a negative count.
"""

from __future__ import annotations

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

_KINDS = ("total", "good", "reject")


@dataclass
class CounterTracker:
    """Delta of a PLC counter that wraps at `bits` and may be reset.

    A drop is read as a wrap when the wrapped distance is under an eighth of the range
    (a real wrap between two polls is small); otherwise as a reset to zero, and the new
    value is what was counted since.
    """

    bits: int
    last: int | None = None

    def update(self, raw: int) -> int:
        previous, self.last = self.last, raw
        if previous is None or raw == previous:
            return 0
        if raw > previous:
            return raw - previous
        modulus = 1 << self.bits
        wrapped = raw + modulus - previous
        return wrapped if 0 < wrapped <= modulus // 8 else raw


@dataclass
class _Decision:
    state: MachineState
    reason_code: int | None = None


@dataclass
class MachineNormaliser:
    """Keeps one machine's current state, counter baselines and event sequence numbers
    (`seq` for state changes, `count_seq` for count deltas, `reason_seq` for reasons given
    to its stops). `edge.pipeline.checkpoint` saves and restores all of it across restarts.

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
    last_ts: datetime | None = None  # the last batch that changed something
    product: str | None = None
    counters: dict[str, CounterTracker] = field(default_factory=dict)
    last_advance: dict[str, datetime] = field(default_factory=dict)
    _texts: dict[int, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        reasons = self.config.reasons if self.reasons is None else self.reasons
        self._texts = {code: r.text for code, r in reasons.items()}
        if self.config.counters:
            for kind in _KINDS:
                c = getattr(self.config.counters, kind)
                if c is not None:
                    self.counters[kind] = CounterTracker(c.bits)

    def update(self, batch: SampleBatch) -> list[StateChange | CountDelta]:
        """Events caused by one batch: a count delta first (parts made before the change)."""
        values = batch.values()
        self._update_product(values)
        events: list[StateChange | CountDelta] = []
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

    def _count(self, values: dict[str, Sample], ts: datetime) -> CountDelta | None:
        deltas: dict[str, int] = {}
        for kind, tracker in self.counters.items():
            tag = getattr(self.config.counters, kind).tag
            s = values.get(tag)
            if s is None or s.quality is not Quality.GOOD or not isinstance(s.value, int | float):
                continue
            d = tracker.update(int(s.value))
            deltas[kind] = d
            if d:
                self.last_advance[kind] = ts
        total, good, reject = _complete(deltas)
        if total == 0 and reject == 0:
            return None
        self.count_seq += 1
        return CountDelta(self.config.id, ts, total, good, reject, self.product, self.count_seq)

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
            state = rule.map.get(int(s.value)) if isinstance(s.value, int | float) else None
        else:
            state = rule.state if bool(s.value) == rule.equals else None
        if state is None:
            return None
        return _Decision(state, _reason_code(values, rule))

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
    if s is None or s.quality is not Quality.GOOD or not isinstance(s.value, int | float):
        return None
    return int(s.value) or None  # 0 means "no reason" on every PLC we have met


def _complete(d: dict[str, int]) -> tuple[int, int, int]:
    """(total, good, reject) from whichever counters are configured; never negative."""
    total, good, reject = d.get("total"), d.get("good"), d.get("reject", 0)
    if total is None:
        good = good or 0
        return good + reject, good, reject
    if good is None:
        # total and reject read in one poll can be a part apart; keep total >= reject.
        good = max(total - reject, 0)
    return max(total, good + reject), good, reject
