"""The gateway: sources -> normaliser -> engines -> sinks and the live view.

One `asyncio.TaskGroup` supervises a named task per machine, the engines' ticker and the
API server. Components are built from the config through explicit registries
(`edge.pipeline.components`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

from core.alarms import AlarmChange
from core.interfaces import (
    Checkpointed,
    DurableSink,
    HistoryReader,
    MachineEvent,
    Observer,
    Sink,
    Source,
)
from core.records import Transaction
from core.types import (
    CountDecision,
    CountDelta,
    Event,
    ReasonAssigned,
    SampleBatch,
    ScrapBooked,
    StateChange,
    StopPlanned,
    SuspectCount,
    utc_now,
)
from edge.config import Config
from edge.engines.alarms import AlarmEngine
from edge.engines.oee import OeeEngine
from edge.engines.order_intake import parse_orders
from edge.engines.spc import SpcEngine
from edge.logs.progress import FirstConnects
from edge.outbox import Journal, Outbox
from edge.pipeline import checkpoint, restart, telemetry
from edge.pipeline.components import (
    SourceContext,
    build_engines,
    build_sinks,
    build_source,
    opened,
    order_engine,
    order_intake,
    outbox_for,
    sample_observers,
)
from edge.pipeline.emitter import Emitter, stage_group
from edge.pipeline.handcounts import HandCounts
from edge.pipeline.live import LiveView
from edge.pipeline.normaliser import MachineNormaliser
from edge.pipeline.part_record import report_split_reads
from edge.pipeline.products import ChosenProducts

# The name it had before the move: operators filter on it.
log = logging.getLogger("edge.pipeline")
Clock = Callable[[], datetime]
# The share of `oee.publish_interval_s` over which one tick's figures go out. Back to
# back, 500 machines' retained figures (~1,000 QoS 1 messages) held up the events behind
# them in the outbox and at the broker (issue 17: event p99 146 ms in the second after a
# tick, 41-49 ms otherwise); spread, the events pass in between.
PUBLISH_SPREAD = 0.5


class Gateway:
    """Runs the whole pipeline until cancelled."""

    def __init__(
        self,
        config: Config,
        *,
        sinks: list[Sink] | None = None,
        history: HistoryReader | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self.clock = clock
        self.outbox: Outbox | None = None
        self.journal: Journal | None = None
        if sinks is None:
            self.outbox = outbox_for(config)
            self.journal = Journal(self.outbox)
            sinks, history = build_sinks(config, self.journal)
        self.sinks = sinks
        # With a journal, the durable sinks stage their records into one transaction per
        # emit (with the normalisers' checkpoints); the others take the events themselves.
        self._staged: list[DurableSink] = [
            s for s in sinks if self.journal is not None and isinstance(s, DurableSink)
        ]
        self._direct = [s for s in sinks if s not in self._staged]
        self.history = history
        self.live = LiveView.from_config(config)
        self.live.sinks_connected = lambda: {s.name: s.connected for s in self.sinks}
        self.live.sink_problems = lambda: telemetry.sink_problems(self.sinks)
        self.engines = build_engines(config)
        # Sorted out once: an isinstance check against a runtime Protocol costs ~1 us, and
        # every emit asked it of every engine (issue 17's profile: 2.7 % of the CPU).
        self._observers = [(n, e) for n, e in self.engines.items() if isinstance(e, Observer)]
        self._checkpointed = [e for e in self.engines.values() if isinstance(e, Checkpointed)]
        self.normalisers = {
            m.id: MachineNormaliser(m, reasons=config.reasons_for(m.id)) for m in config.machines
        }
        issues = {m: n.issues for m, n in self.normalisers.items()}
        self._samplers = sample_observers(self.engines, issues)  # SPC: machines with charts
        report_split_reads(config, issues, clock())  # per-part readings read apart from parts
        self._tags_out = {m.id for m in config.machines if m.publish_tags}
        self._alive_file = config.gateway.data_dir / "alive"
        self.products = ChosenProducts(config.gateway.data_dir / "products.json", self.normalisers)
        self.products.load()
        self.orders = order_engine(self.engines)
        self.orders.bind_products(self.set_product)  # an order sets its machine's product
        # Live events for the engines while they replay the stored history (see run).
        self._engine_backlog: list[MachineEvent | SampleBatch] | None = None
        self.sources: dict[str, Source] = {}  # per machine, while running
        self._emitter = Emitter(self._hand_in, self._direct, self._sink_failed)
        self.sink_errors = 0
        self.poll_errors = dict.fromkeys(self.normalisers, 0)  # batches with an error
        self.events_out = telemetry.EventCounts()  # events handed to the sinks
        self.connecting = FirstConnects(len(config.machines))  # start-up progress
        self.machine_errors = dict.fromkeys(self.normalisers, 0)  # failures inside the pipeline
        self.engine_errors = dict.fromkeys(self.engines, 0)  # failed publications
        self._batches_per_tick = 0  # the last tick's: paces the next one
        self._engines_failing: set[str] = set()  # machines an engine failed on last
        for machine, n in self.normalisers.items():  # the page and the API read these
            self.live.machines[machine].issues = n.issues
            self.live.machines[machine].suspects = n.pending
        self.hand = HandCounts(self.normalisers, self._feed, self.emit, self.clock)
        self.live.counters = lambda: telemetry.counters(self)
        self.live.gauges = lambda: telemetry.gauges(self)

    @property
    def engine(self) -> OeeEngine:
        """The OEE engine (every gateway runs one)."""
        engine = self.engines["oee"]
        assert isinstance(engine, OeeEngine)
        return engine

    @property
    def alarms(self) -> AlarmEngine:
        """The alarm engine (every gateway runs one; without rules it raises nothing)."""
        engine = self.engines["alarms"]
        assert isinstance(engine, AlarmEngine)
        return engine

    @property
    def spc(self) -> SpcEngine:
        """The SPC engine (every gateway runs one; without charts it makes nothing)."""
        engine = self.engines["spc"]
        assert isinstance(engine, SpcEngine)
        return engine

    async def take_orders(self, payload: bytes) -> None:
        """Orders sent to the intake topic (`OrderEngine.intake`): the progress of the
        machines they concern goes out at once (and the book's checkpoint with it)."""
        parsed = await asyncio.to_thread(parse_orders, payload, self.orders.machines)
        if self.orders.take_parsed(*parsed)[0]:
            for batch in self.orders.publications(self.clock()):
                await self.emit(batch)

    async def emit_spc(self) -> None:
        """Emit what an act on the SPC engine made (freeze, limits, unfreeze, readings by
        hand) at once, after the points before it; the engine's checkpoint goes with it."""
        await self.emit(self.spc.drain())

    async def acknowledge_alarm(self, ident: str, by: str) -> AlarmChange:
        """`by` acknowledges the active alarm `ident` (edge.engines.alarms: UnknownAlarm,
        AlreadyAcknowledged); the change goes out at once, after any change before it."""
        change = self.alarms.acknowledge(ident, by, self.clock())
        await self.emit(self.alarms.drain())
        return change

    async def run(self, *extra: Callable[[], Any]) -> None:
        """Run until cancelled. `extra` coroutine functions (e.g. the API server) run
        in the same task group."""
        async with AsyncExitStack() as stack:
            if self.outbox is not None:  # opened first, closed after the sinks
                await asyncio.to_thread(self.outbox.open)
                stack.push_async_callback(asyncio.to_thread, self.outbox.close)
            if self.journal is not None:
                stack.push_async_callback(self.journal.aclose)
            resumed = await self._restore()
            await stack.enter_async_context(opened(self.sinks))
            shared = SourceContext()  # this run's: e.g. one OPC UA session per endpoint
            for m in self.config.machines:
                source = build_source(m, self.config, shared)
                self.sources[m.id] = await stack.enter_async_context(source)
            last_seen, started = self._last_seen(), self.clock()
            if self.history is not None:  # the engines take live events once they have these
                self._engine_backlog = []
            await self._resume(resumed, last_seen)
            self.live.started = True
            self.connecting.start()
            try:
                async with asyncio.TaskGroup() as tg:
                    # Acquisition does not wait for the stored history (a slow database).
                    tg.create_task(self._preload(last_seen, started), name="oee-history")
                    for machine, source in self.sources.items():
                        tg.create_task(self._poll(machine, source), name=f"poll:{machine}")
                    # The ticker publishes every engine's figures (its name predates them).
                    tg.create_task(self._oee_ticker(), name="oee-ticker")
                    if intake := order_intake(self.config, self.take_orders):
                        tg.create_task(intake.run(), name="orders-intake")
                    for i, fn in enumerate(extra):
                        tg.create_task(fn(), name=getattr(fn, "__name__", f"extra-{i}"))
            finally:
                self.live.started = False
                await self._final_offline()

    async def _restore(self) -> list[str]:
        """Put the checkpoints back (`edge.pipeline.restart`); the machines whose state was
        still known when the gateway stopped, i.e. it was killed before it could say
        `offline`."""
        if self.journal is None:
            return []
        meta = await self.journal.load()
        resumed = restart.restore_checkpoints(
            meta, self.engines.values(), self.normalisers, self.live
        )
        # The held counts restored with the normalisers are still held: say so to the engines.
        self._observe([s for n in self.normalisers.values() for s in n.pending.values()])
        if resumed:
            log.warning("the gateway did not stop cleanly last time (killed?); resuming %s",
                        ", ".join(resumed))  # fmt: skip
        return resumed

    def _last_seen(self) -> datetime | None:
        """When the previous run was last known to be alive: its `alive` mark, or the
        last event of a checkpoint if later."""
        seen = [n.last_ts for n in self.normalisers.values() if n.last_ts is not None]
        with contextlib.suppress(OSError):
            seen.append(datetime.fromtimestamp(self._alive_file.stat().st_mtime, UTC))
        return max(seen, default=None)

    async def _resume(self, machines: list[str], last_seen: datetime | None) -> None:
        """What a clean stop would have said: these machines' state is unknown (`offline`)
        from the previous run's last sign of life. Their seq goes on from the checkpoint."""
        changes: list[Event] = []
        for machine in machines:
            n = self.normalisers[machine]
            at = max(t for t in (last_seen, n.last_ts, n.since) if t is not None)
            change = n.go_offline(at)
            if change is not None:
                self._feed(change)
                changes.append(change)
        await self.emit(changes)

    async def _preload(self, last_seen: datetime | None, until: datetime | None = None) -> None:
        """Replay the history stored before `until` (default: now) into every engine, so
        a restart keeps the figures; then the live events that came meanwhile."""
        try:
            if self.history is not None:
                until = until or self.clock()
                await restart.replay_history(self.engines.values(), self.history, until, last_seen)
        finally:
            backlog, self._engine_backlog = self._engine_backlog or [], None
            for e in backlog:
                self._apply(e)

    def _feed(self, event: MachineEvent | SampleBatch) -> None:
        """To every engine, or kept in order until the history is replayed."""
        if self._engine_backlog is not None:
            self._engine_backlog.append(event)
        else:
            self._apply(event)

    def _apply(self, event: MachineEvent | SampleBatch) -> None:
        if isinstance(event, SampleBatch):  # raw readings, in order with the events
            for name, sampler in self._samplers[event.machine]:
                try:
                    sampler.take_samples(event)
                except Exception as exc:  # that machine's charts, not the acquisition
                    self._failed(event.machine, f"engine {name}", exc, event.ts)
            return
        failed = False
        for name, engine in self.engines.items():
            try:
                engine.apply(event)
            except Exception as exc:  # one machine's figures, not the gateway's acquisition
                self._failed(event.machine, f"engine {name}", exc, event.ts)
                failed = True
        if failed:
            self._engines_failing.add(event.machine)
        elif event.machine in self._engines_failing:  # the engines took it: recovered
            self._engines_failing.discard(event.machine)
            self.normalisers[event.machine].issues.clear_prefix("pipeline/engine ")

    def _normalise(
        self, n: MachineNormaliser, batch: SampleBatch
    ) -> list[StateChange | CountDelta | SuspectCount]:
        try:
            changes = n.update(batch)
        except Exception as exc:  # one machine's input must not stop the others
            self._failed(n.config.id, "normaliser", exc, batch.ts)
            return []
        n.issues.clear("pipeline/normaliser")
        return changes

    def _failed(self, machine: str, stage: str, exc: Exception, at: datetime) -> None:
        """A failure inside the pipeline for `machine`: contained, counted, logged once
        (with its traceback) and open as an issue until `stage` works again."""
        self.machine_errors[machine] = self.machine_errors.get(machine, 0) + 1
        n = self.normalisers.get(machine)
        if n is None:
            log.exception("%s failed for unknown machine %s", stage, machine)
            return
        detail = f"{stage} failed: {type(exc).__name__}: {exc}"
        n.issues.raise_(f"pipeline/{stage}", "pipeline_error", detail, at, exc)

    def _still_alive(self) -> None:
        # Its mtime tells the next start until when the machines' states were known.
        with contextlib.suppress(OSError):
            self._alive_file.parent.mkdir(parents=True, exist_ok=True)
            self._alive_file.touch()

    async def _poll(self, machine: str, source: Source) -> None:
        normaliser = self.normalisers[machine]
        first = True  # the first batch ends the first connection attempt
        async for batch in source.stream():
            if batch.error is not None:
                self.poll_errors[machine] += 1
            if first:
                first = False
                up = bool(getattr(source, "connected", False))
                self.connecting.attempted(machine, up, batch.error)
            await self.take(normaliser, batch)

    async def take(self, normaliser: MachineNormaliser, batch: SampleBatch) -> None:
        """One batch of the normaliser's machine through the pipeline: normalised, fed to
        the engines (not a suspect count: it is held out of every figure) and emitted."""
        changes = self._normalise(normaliser, batch)
        for e in changes:
            if not isinstance(e, SuspectCount):
                self._feed(e)
        if batch.machine in self._samplers:  # after the counts it made (per-part readings)
            self._feed(batch)
        out: list[Event] = [batch] if batch.machine in self._tags_out else []
        self.live.apply(batch)
        await self.emit([*out, *changes])

    async def _oee_ticker(self) -> None:
        interval = self.config.oee.publish_interval_s
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            if self._engine_backlog is None:  # no figures without the stored history
                await self._publish_figures(self.clock())
            self._still_alive()

    async def _publish_figures(self, now: datetime) -> None:
        """Every engine's figures at `now`, a batch at a time, spread over
        `PUBLISH_SPREAD` of the interval (paced by the last tick's number of batches): the
        polls and their events run in between."""
        budget = self.config.oee.publish_interval_s * PUBLISH_SPREAD
        pause = budget / self._batches_per_tick if self._batches_per_tick > 1 else 0.0
        batches = 0
        for name, engine in self.engines.items():
            try:
                for batch in engine.publications(now):
                    if batches and pause:
                        await asyncio.sleep(pause)
                    await self.emit(batch)
                    batches += 1
            except Exception:  # the other engines' figures go out all the same
                if not self.engine_errors[name]:
                    log.exception("%s figures not published", engine.name)
                self.engine_errors[name] += 1
        self._batches_per_tick = batches

    async def emit(self, events: Sequence[Event]) -> None:
        """Hand events to the live view and every sink; a failing sink never stops the rest.
        The durable sinks' records and the checkpoints of the machines concerned are
        committed to the outbox in one transaction. Returns once they are committed and
        the other sinks have them. Once called, an emit completes even if the caller is
        cancelled (a stopping gateway): its events already carry `seq`. The emits made
        while the previous ones are committed go out together, in order
        (`edge.pipeline.emitter`: one transaction per poll slot, not per machine)."""
        if not events:
            return
        events = [self._numbered(e) for e in events]
        for e in events:
            if isinstance(e, ReasonAssigned | StopPlanned):
                self._feed(e)
        await self._emitter.emit(events)

    def _hand_in(self, parts: list[list[Event]]) -> tuple[list[Event], asyncio.Future[None] | None]:
        """One group of emits: the live view, the watching engines and the journal
        transaction; the future of its commit (None without a journal)."""
        events = parts[0] if len(parts) == 1 else [e for p in parts for e in p]
        self.events_out.count(events)
        for e in events:
            if not isinstance(e, SampleBatch):
                self.live.apply(e)
        self._observe(events)
        if self.journal is None:
            return events, None
        tx = Transaction()
        for durable in self._staged:
            stage_group(durable, parts, events, tx, self._sink_failed)
        tx.set_meta({**self._checkpoints(events), **self._engine_checkpoints(events)})
        return events, self.journal.submit(tx)

    def _observe(self, events: Sequence[Event]) -> None:
        """Every emitted event to the engines that watch them (the alarm engine)."""
        for name, engine in self._observers:
            try:
                engine.observe(events)
            except Exception:  # the events go out all the same
                if not self.engine_errors[name]:
                    log.exception("%s failed on emitted events", engine.name)
                self.engine_errors[name] += 1

    def _engine_checkpoints(self, events: Sequence[Event]) -> dict[str, str]:
        out: dict[str, str] = {}
        for engine in self._checkpointed:
            out.update(engine.checkpoint(events))
        return out

    def _sink_failed(self, sink: Sink, events: Sequence[Event]) -> None:
        self.sink_errors += 1
        log.exception("sink %s failed to take %d event(s)", sink.name, len(events))

    def _numbered(self, e: Event) -> Event:
        """An operator's reason (or planned stop) gets the machine's next `seq` of its kind."""
        if isinstance(e, ReasonAssigned | StopPlanned) and e.seq == 0:
            n = self.normalisers.get(e.machine)
            if n is not None:
                seq = n.next_reason_seq() if isinstance(e, ReasonAssigned) else n.next_planned_seq()
                return dataclasses.replace(e, seq=seq)
        return e

    def _checkpoints(self, events: Sequence[Event]) -> dict[str, str]:
        touched = {
            e.machine
            for e in events
            if isinstance(
                e,
                StateChange
                | CountDelta
                | ReasonAssigned
                | SuspectCount
                | CountDecision
                | ScrapBooked
                | StopPlanned,
            )
        }
        return {
            checkpoint.key(m): checkpoint.checkpoint(self.normalisers[m])
            for m in touched
            if m in self.normalisers
        }

    async def decide_suspect(
        self, machine: str, seq: int, accept: bool, by: str, note: str | None = None
    ) -> CountDecision:
        """Accept or discard a held suspect count (`edge.pipeline.handcounts`)."""
        return await self.hand.decide(machine, seq, accept, by, note)

    async def correct_count(
        self, machine: str, counts: tuple[int, int, int], by: str, note: str | None = None
    ) -> CountDecision:
        """Count parts by hand (`edge.pipeline.handcounts`)."""
        return await self.hand.correct(machine, counts, by, note)

    async def book_scrap(self, booking: ScrapBooked) -> ScrapBooked:
        """Book scrap by hand (`edge.pipeline.handcounts`)."""
        return await self.hand.scrap(booking)

    def set_product(self, machine: str, product: str | None) -> str | None:
        """The product `machine` makes from now on (None: its default), kept across restarts
        (`edge.pipeline.products`); returns the one before. ValueError if a PLC tag names
        the product."""
        previous = self.products.choose(machine, product)
        self.live.machines[machine].product = product
        return previous

    async def _final_offline(self) -> None:
        # The machines are not offline, but the gateway no longer knows their state.
        now = self.clock()
        changes = [c for n in self.normalisers.values() if (c := n.go_offline(now)) is not None]
        with contextlib.suppress(Exception):
            # The emits of polls cancelled on their way out finish first, before the sinks close.
            await self._emitter.settle()
            await self.emit(changes)
