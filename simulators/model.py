"""One simulated machine: a pure, deterministic, event-driven state model.

The model knows nothing about wall clocks or protocols. `advance_to(sim_t)` moves it
to a simulated time (seconds since start); everything it does between two calls is
decided by events whose times are drawn from seeded RNGs *when the event sequence
needs them*, never per call. So the result at a given sim time is the same however
often (or rarely) the model is sampled.

Parts: while running, a part completes each time the machine's cumulative running
time crosses a multiple of `cycle_s`. Partial cycle progress is therefore carried
across any interruption (a stop does not throw away a half-made part).
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from dataclasses import dataclass
from enum import IntEnum

U32 = 1 << 32
U16 = 1 << 16
# Absorbs float error when running time lands exactly on a cycle boundary
# (e.g. 60.0 s at 2.0 s/part must give 30 parts, not 29).
_PART_EPS = 1e-9


class MachineState(IntEnum):
    """PLC-native state codes (holding register 0)."""

    RUNNING = 1
    IDLE = 2
    FAULT = 3
    SETUP = 4
    PLANNED_STOP = 5


STATE_BY_NAME: dict[str, MachineState] = {s.name.lower(): s for s in MachineState}


@dataclass(frozen=True)
class Segment:
    """One step of a script: hold `state` for `for_s` simulated seconds."""

    state: MachineState
    for_s: float = math.inf
    reason: int = 0
    product: int | None = None


@dataclass(frozen=True)
class MachineParams:
    """Behaviour of one machine. A non-empty `script` selects script mode.

    Random-mode features are off when their rate/interval is 0.
    """

    cycle_s: float = 2.0
    reject_rate: float = 0.0
    reject_every: int = 0  # every Nth part is a reject (exact; 0 = off, overrides rate)
    product: int = 1
    products: tuple[int, ...] = ()  # setups cycle through these; default (p, p + 1)
    counter_start: int = 0  # initial value of all three PLC counters
    mtbf_s: float = 0.0  # mean running time between faults (exponential)
    mttr_s: float = 60.0  # mean fault duration (exponential)
    fault_reasons: tuple[int, ...] = (1,)
    micro_stop_every_s: float = 0.0  # mean running time between micro stops
    micro_stop_s: float = 5.0  # mean micro-stop length (uniform 0.5x..1.5x)
    idle_reason: int = 0
    setup_every_parts: int = 0
    setup_s: float = 120.0
    setup_reason: int = 0
    break_every_s: float = 0.0  # planned stop at each multiple of this sim time
    break_s: float = 600.0
    break_reason: int = 0
    temp_base: float = 40.0
    temp_amplitude: float = 5.0
    temp_period_s: float = 600.0
    fill_mean: float = 500.0  # fill weight of a part (g): normal(fill_mean, fill_sd)
    fill_sd: float = 1.0
    fill_drift_at_s: float = math.inf  # parts made from this sim time on weigh
    fill_drift_shift: float = 0.0  # fill_drift_shift more (a process drift for SPC)
    script: tuple[Segment, ...] = ()
    repeat: bool = False  # script mode: start again after the last segment, forever
    extra_tags: int = 0  # filler uint16 values (see `extra_value`), for load tests


@dataclass(frozen=True)
class Transition:
    """A state entered at sim time `t`."""

    t: float
    state: MachineState
    reason: int
    product: int


@dataclass(frozen=True)
class Snapshot:
    """What the PLC shows at `sim_t`. Counters are PLC values (wrapped)."""

    sim_t: float
    state: MachineState
    reason: int
    product: int
    total: int  # uint32
    good: int  # uint32
    reject: int  # uint32
    total16: int
    reject16: int
    parts: int  # parts made since start, unwrapped
    rejects: int  # rejects made since start, unwrapped
    speed: float  # parts per minute, 0 unless running
    temperature: float
    fill_weight: float = 0.0  # the last part's fill weight (0 before the first part)


def fill_weight(seed: int | str, part_no: int, mean: float, sd: float) -> float:
    """The fill weight of part `part_no` (from 1): `mean + sd * z`, z standard normal drawn
    from a generator seeded with the machine's seed and the part's number alone, so the
    weight of a part is the same however often (or rarely) the model is sampled."""
    return mean + sd * random.Random(f"fill:{seed}:{part_no}").gauss(0.0, 1.0)


def extra_value(sim_t: float, i: int) -> int:
    """Extra tag `i` (0-based) at `sim_t`: ``(floor(sim_t) + 1000 * i) % 65536``.

    Filler for load tests: a pure function of sim time and index (not of the machine),
    so every extra tag changes exactly once per simulated second, by +1, and a test
    knows its value from the sim time alone.
    """
    return (math.floor(sim_t) + 1000 * i) % U16


def extra_values(sim_t: float, count: int) -> list[int]:
    """Extra tags 0..`count`-1 at `sim_t` (see `extra_value`)."""
    base = math.floor(sim_t)
    return [(base + 1000 * i) % U16 for i in range(count)]


# What follows a running segment: (state, reason, duration); chosen on entry.
_Stop = tuple[MachineState, int, float]


class MachineModel:
    """A deterministic machine. Same params and seed give the same history.

    `history` keeps the last `history_size` transitions (None: all of them).
    """

    def __init__(
        self, params: MachineParams, seed: int | str = 0, *, history_size: int | None = 1000
    ) -> None:
        if params.cycle_s <= 0:
            raise ValueError("cycle_s must be > 0")
        if params.repeat and not all(math.isfinite(s.for_s) for s in params.script):
            raise ValueError("repeat needs a finite for_s on every script segment")
        self.params = params
        # Separate streams, so that adding a reject draw never shifts state events.
        self._rng = random.Random(f"events:{seed}")
        self._qrng = random.Random(f"quality:{seed}")
        self._seed = seed
        self._fill = 0.0  # the last part's fill weight
        self._products = params.products or (params.product, params.product + 1)
        self._product_i = 0
        self._t = 0.0
        self._parts = 0
        self._rejects = 0
        self._run_base = 0.0  # cumulative running time at the start of this segment
        self._parts_at_setup = 0
        self._next_break = params.break_every_s or math.inf
        self._script_i = 0
        self._pass = 0  # completed passes through a repeating script
        # End of each segment relative to the start of its pass (the last = the period).
        self._script_ends = tuple(itertools.accumulate(s.for_s for s in params.script))
        self._state = MachineState.IDLE
        self._reason = 0
        self._product = params.product
        self._seg_start = 0.0
        self._seg_end = math.inf
        self._after_run: _Stop | None = None
        self.history: deque[Transition] = deque(maxlen=history_size)
        self.transitions = 0
        if params.script:
            self._enter_script_segment(0.0)
        else:
            self._enter_running(0.0)

    @property
    def sim_t(self) -> float:
        """The simulated time the model has been advanced to."""
        return self._t

    def advance_to(self, sim_t: float) -> None:
        """Play all events up to `sim_t` (simulated seconds, never decreasing)."""
        if sim_t < self._t:
            raise ValueError(f"sim time went backwards: {sim_t} < {self._t}")
        while self._seg_end <= sim_t:
            end = self._seg_end
            self._count_parts(end)
            self._run_base = self._running_time(end)
            self._next_segment(end)
        self._count_parts(sim_t)
        self._t = sim_t

    def snapshot(self) -> Snapshot:
        """The PLC's view at the current sim time."""
        p = self.params
        start = p.counter_start
        running = self._state is MachineState.RUNNING
        angle = 2 * math.pi * self._t / p.temp_period_s if p.temp_period_s > 0 else 0.0
        good = self._parts - self._rejects
        return Snapshot(
            sim_t=self._t,
            state=self._state,
            reason=self._reason,
            product=self._product,
            total=(start + self._parts) % U32,
            good=(start + good) % U32,
            reject=(start + self._rejects) % U32,
            total16=(start + self._parts) % U16,
            reject16=(start + self._rejects) % U16,
            parts=self._parts,
            rejects=self._rejects,
            speed=60.0 / p.cycle_s if running else 0.0,
            temperature=p.temp_base + p.temp_amplitude * math.sin(angle),
            fill_weight=self._fill,
        )

    # -- parts -------------------------------------------------------------------

    def _running_time(self, t: float) -> float:
        if self._state is MachineState.RUNNING:
            return self._run_base + (t - self._seg_start)
        return self._run_base

    def _count_parts(self, t: float) -> None:
        target = math.floor(self._running_time(t) / self.params.cycle_s + _PART_EPS)
        before = self._parts
        while self._parts < target:
            self._parts += 1
            if self._is_reject(self._parts):
                self._rejects += 1
        if self._parts > before:  # only the last part's weight is shown: drawn once
            self._fill = self._part_weight(self._parts)

    def _part_weight(self, part_no: int) -> float:
        """Part `part_no`'s fill weight; the drift applies from the part completed at or
        after `fill_drift_at_s` (its cycle ended then: the running time crossed
        part_no x cycle_s inside the current running segment)."""
        p = self.params
        done_at = self._seg_start + (part_no * p.cycle_s - self._run_base)
        mean = p.fill_mean + (
            p.fill_drift_shift if done_at >= p.fill_drift_at_s - _PART_EPS else 0.0
        )
        return fill_weight(self._seed, part_no, mean, p.fill_sd)

    def _is_reject(self, part_no: int) -> bool:
        p = self.params
        draw = self._qrng.random()  # always drawn: keeps the stream aligned per part
        if p.reject_every > 0:
            return part_no % p.reject_every == 0
        return draw < p.reject_rate

    # -- state sequencing ----------------------------------------------------------

    def _enter(self, t: float, state: MachineState, reason: int, end: float) -> None:
        self._state = state
        self._reason = reason
        self._seg_start = t
        self._seg_end = end
        self.transitions += 1
        self.history.append(Transition(t, state, reason, self._product))

    def _next_segment(self, t: float) -> None:
        if self.params.script:
            self._script_i += 1
            if self._script_i == len(self.params.script):  # only reached with repeat
                self._script_i = 0
                self._pass += 1
            self._enter_script_segment(t)
        elif self._state is MachineState.RUNNING:
            self._enter_stop(t)
        elif t >= self._next_break:
            self._enter_break(t)
        else:
            self._enter_running(t)

    def _enter_script_segment(self, t: float) -> None:
        script = self.params.script
        seg = script[self._script_i]
        if seg.product is not None:
            self._product = seg.product
        if self._script_i == len(script) - 1 and not self.params.repeat:
            # The last segment is held forever, so final counts are exactly known.
            self._enter(t, seg.state, seg.reason, math.inf)
            return
        # Ends come from the pass start plus fixed offsets, not from t + for_s, so
        # float error does not pile up over thousands of passes.
        pass_start = self._pass * self._script_ends[-1] if self._pass else 0.0
        self._enter(t, seg.state, seg.reason, pass_start + self._script_ends[self._script_i])

    def _enter_running(self, t: float) -> None:
        """Start running and decide now which stop ends this run, and when."""
        p = self.params
        candidates: list[tuple[float, _Stop | None]] = []
        if p.micro_stop_every_s > 0:
            candidates.append((self._rng.expovariate(1 / p.micro_stop_every_s), None))
        if p.mtbf_s > 0:
            fault = (MachineState.FAULT, 0, 0.0)
            candidates.append((self._rng.expovariate(1 / p.mtbf_s), fault))
        if p.setup_every_parts > 0:
            due = (self._parts_at_setup + p.setup_every_parts) * p.cycle_s - self._run_base
            candidates.append((max(due, 0.0), (MachineState.SETUP, p.setup_reason, p.setup_s)))
        if self._next_break < math.inf:
            brk = (MachineState.PLANNED_STOP, p.break_reason, p.break_s)
            candidates.append((max(self._next_break - t, 0.0), brk))
        if not candidates:
            self._after_run = None
            self._enter(t, MachineState.RUNNING, 0, math.inf)
            return
        run_for, stop = min(candidates, key=lambda c: c[0])
        self._after_run = stop
        self._enter(t, MachineState.RUNNING, 0, t + run_for)

    def _enter_stop(self, t: float) -> None:
        p = self.params
        stop = self._after_run
        if stop is None:  # micro stop: starved/blocked for a few seconds
            duration = p.micro_stop_s * self._rng.uniform(0.5, 1.5)
            self._enter(t, MachineState.IDLE, p.idle_reason, t + duration)
        elif stop[0] is MachineState.FAULT:
            reason = self._rng.choice(p.fault_reasons)
            self._enter(t, MachineState.FAULT, reason, t + self._rng.expovariate(1 / p.mttr_s))
        elif stop[0] is MachineState.SETUP:
            self._parts_at_setup = self._parts
            self._product_i = (self._product_i + 1) % len(self._products)
            self._product = self._products[self._product_i]
            self._enter(t, MachineState.SETUP, stop[1], t + stop[2])
        else:
            self._enter_break(t)

    def _enter_break(self, t: float) -> None:
        p = self.params
        # A break due during a fault or setup starts when that ends; the next one
        # is at the next multiple of break_every_s after this one ends.
        self._next_break = (math.floor((t + p.break_s) / p.break_every_s) + 1) * p.break_every_s
        self._enter(t, MachineState.PLANNED_STOP, p.break_reason, t + p.break_s)
