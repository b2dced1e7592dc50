"""The order engine (a `core.interfaces.Engine`, `ENGINES["orders"]`; issue 19): which
order each machine runs, what it made of it, its progress every publication and the
changeovers between products or orders (docs/OEE.md "Orders, plan and changeovers").

Which order runs: the machine's `order_tag` when it has one (the tag decides: empty or
0 is none); else the one an operator started (`OrderCommand`); else the queue, its next
order not done by planned start, then due, which starts at its first part and ends when
its good count reaches the quantity. Leaving an order unfinished pauses it. Making an
order current sets the machine's product to the order's (unless a product tag names it).

Fed: states and counts (`apply`), the operator's product changes, order commands and
scrap (`observe`: emitted events), the order tag's value (`take_samples`) and orders
sent to the intake topic (`intake`). Out: an `OrderProgress` per machine with an order
every publication (and once when none runs any more), each `ChangeoverDone` once, and
the `ProductChanged` an order made. The book and every run survive a restart in the
outbox's checkpoints, written with each machine's progress (`edge.engines.order_store`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from core.interfaces import HistoryReader, IssueLog
from core.orders import ChangeoverDone, OrderCommand, OrderProgress
from core.types import (
    CountDelta,
    Event,
    ProductChanged,
    Quality,
    ReasonAssigned,
    SampleBatch,
    ScrapBooked,
    StateChange,
)
from edge.config import Config
from edge.engines.order_acts import OrderActs
from edge.engines.order_book import OrderBook
from edge.engines.order_machine import MachineOrders, Ramp
from edge.engines.order_store import OrderStore
from oee.changeovers import Changeover, CountPoint
from oee.orders import WorkOrder

__all__ = ["OrderEngine"]

log = logging.getLogger("edge.orders")
SetProduct = Callable[[str, str | None], str | None]
# A done order stays in the book (and the checkpoints) this long after it ended.
KEEP_DONE = timedelta(days=7)


class OrderEngine(OrderActs, OrderStore):
    """Every machine's orders, progress and changeovers."""

    name = "orders"
    # The state in force at a restart is found in the stored states of this long (the
    # runs themselves come from the checkpoints).
    lookback = timedelta(hours=26)

    def __init__(self, config: Config) -> None:
        self.config = config
        self.settings = config.orders
        self.book = OrderBook()
        self.fixed = [o.to_order() for o in config.orders.fixed]
        for order in self.fixed:
            self.book.put(order)
        self.machines = {m.id: MachineOrders(m.id) for m in config.machines}
        self._mcfg = {m.id: m for m in config.machines}
        self._tagged = {m.id: m.order_tag for m in config.machines if m.order_tag}
        self.ramp = Ramp(config.orders.ramp_fraction, config.orders.ramp_window_s)
        self._pending: list[Event] = []
        self._set_product: SetProduct | None = None
        self.refused = 0  # orders refused at the intake
        self._said: set[str] = set()  # what was logged once
        self._ran: dict[str, str | None] = {}  # checkpoints: the order each machine ran

    # --- wiring ----------------------------------------------------------------------

    def bind_products(self, set_product: SetProduct) -> None:
        """How the engine sets a machine's product (the gateway's `set_product`)."""
        self._set_product = set_product

    def sampled(self) -> frozenset[str]:
        """The machines with an order tag: their batches carry the order id."""
        return frozenset(self._tagged)

    def bind_issues(self, issues: Mapping[str, IssueLog]) -> None:
        """Unused: an unknown order id in a tag is logged once instead."""

    async def preload(
        self, history: HistoryReader, now: datetime, last_alive: datetime | None
    ) -> int:
        """Each machine's state at `now` (the book and the runs came back with `restore`);
        the time the gateway was down is no order's time."""
        n = 0
        for machine, m in self.machines.items():
            states = await history.state_history(machine, now - self.lookback, now)
            if states and m.state is None:
                m.state, m.since, m.mark = states[-1].state, states[-1].ts, now
            n += len(states)
        return n

    # --- what the gateway feeds --------------------------------------------------------

    def take_samples(self, batch: SampleBatch) -> None:
        """The order tag's value: the order running now ('' or 0: none)."""
        sample = batch.values().get(self._tagged[batch.machine])
        if sample is None or sample.value is None or sample.quality is Quality.BAD:
            return  # unknown: the order stays as it was
        v = sample.value
        text = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
        text = "" if text in ("0", "False") else text
        m = self.machines[batch.machine]
        if text != m.tag:
            m.tag = text
            if text and text not in self.book.orders:
                self._once(f"tag:{text}", "%s: order tag names unknown order '%s'", m.id, text)
            self._switch(m, batch.ts)

    def apply(self, event: object) -> None:
        """States (time by state), reasons (of changeovers), counts (the order's parts)."""
        m = self.machines.get(getattr(event, "machine", ""))
        if m is None:
            return
        if isinstance(event, StateChange):
            self._account(m, event.ts)
            m.entered(event.state, event.ts, event.reason_code, event.reason)
        elif isinstance(event, ReasonAssigned):
            m.reasoned(event.stop_ts, event.reason_code, event.reason)
        elif isinstance(event, CountDelta):
            self._count(m, event)

    def observe(self, events: Sequence[Event]) -> None:
        """The emitted operator events: order commands and scrap (a product set by hand
        reaches the engine with the counts)."""
        for e in events:
            m = self.machines.get(getattr(e, "machine", ""))
            if m is None:
                continue
            if isinstance(e, OrderCommand):
                self.command(m, e)
            elif isinstance(e, ScrapBooked) and m.current is not None:
                self.book.runs[m.current].scrap += e.quantity

    # --- choosing the order --------------------------------------------------------------

    def _choose(self, m: MachineOrders) -> tuple[str | None, str | None]:
        if m.id in self._tagged:
            return (m.tag if m.tag in self.book.orders else None), "tag"
        if m.held:
            return None, None
        if m.operator is not None and not self.book.done(m.operator):
            return m.operator, "operator"
        queue = self.book.queue(m.id)
        return (queue[0].id, "queue") if queue else (None, None)

    def _switch(self, m: MachineOrders, ts: datetime) -> None:
        """Make the chosen order current at `ts`: the one before says its last progress
        and is paused (if it ran and is not done), the new one starts (a queued one at its
        first part) or resumes."""
        new, source = self._choose(m)
        if new == m.current:
            m.source = source  # type: ignore[assignment]
            return
        self._account(m, ts)
        old = self.book.runs.get(m.current) if m.current is not None else None
        done = m.current is None or self.book.done(m.current)
        if old is not None and old.started is not None:
            if not (done or old.paused_now):
                old.paused.append((ts, None))  # left unfinished: paused, to resume later
            self._pending.append(self._progress(m, ts))  # its last progress, as it left
        m.current, m.source = new, source  # type: ignore[assignment]
        if new is None:
            return
        if source != "queue":
            self._start(m, new, ts)
        self._product(m, self.book.orders[new], ts)

    def _start(self, m: MachineOrders, order_id: str, ts: datetime) -> None:
        run = self.book.runs[order_id]
        if run.started is None:
            run.started = ts
            run.points.append((ts, run.good))
        elif run.paused_now:
            run.paused[-1] = (run.paused[-1][0], max(ts, run.paused[-1][0]))
        m.mark = ts

    def _product(self, m: MachineOrders, order: WorkOrder, ts: datetime) -> None:
        """The machine makes the order's product from now on (not with a product tag)."""
        cfg = self._mcfg[m.id]
        if cfg.product_tag is not None or self._set_product is None:
            return
        previous = self._set_product(m.id, order.product)
        if previous != order.product:
            name = cfg.products[order.product].name if order.product in cfg.products else None
            by = f"order {order.id}"
            self._pending.append(ProductChanged(m.id, ts, order.product, previous, by, name))

    # --- counting ------------------------------------------------------------------------

    def _account(self, m: MachineOrders, until: datetime) -> None:
        """The current order's time in the machine's state up to `until`."""
        run = self.book.runs.get(m.current) if m.current is not None else None
        if run is not None and run.started is not None and run.ended is None:
            since = max(t for t in (m.mark, m.since, run.started) if t is not None)
            if m.state is not None and not run.paused_now and until > since:
                key = str(m.state)
                run.state_s[key] = run.state_s.get(key, 0.0) + (until - since).total_seconds()
        m.mark = until

    def _count(self, m: MachineOrders, e: CountDelta) -> None:
        if m.current is None and self.book.has(m.id):
            self._switch(m, e.ts)  # a queued order may be waiting
        cur = m.current
        if cur is not None and m.source == "queue" and self.book.runs[cur].started is None:
            self._start(m, cur, e.ts)  # a queued order starts at its first part
        run = self.book.runs.get(cur) if cur is not None else None
        if run is not None and (run.started is None or run.ended is not None or run.paused_now):
            run = None
        product = e.product or (self.book.orders[cur].product if cur else "default")
        # Parts made while no order runs (paused) keep the last order's key: a pause is
        # no changeover, another order or product is.
        before = m.segment[-1] if m.segment else m.last_part
        key = cur if run is not None else (before.order if before is not None else None)
        point = CountPoint(e.ts, e.good, product, e.reject, key)
        if m.pending and m.segment[0].key != point.key:
            self._changeover(m, e.ts, force=True)
        m.part(point)
        if run is None or cur is None:
            return
        self._account(m, e.ts)
        run.count(e.ts, e.good, e.reject, self.book.orders[cur].quantity)
        if m.source == "queue" and self.book.done(cur):
            run.ended = e.ts  # its quantity is made: the queue moves on
            self._switch(m, e.ts)

    def _changeover(self, m: MachineOrders, now: datetime, force: bool = False) -> None:
        if not m.pending:
            return
        first = m.segment[0]
        ideal = self._ideal(m.id, first.product, first.order)
        found = m.complete(now, ideal, self.ramp, force, self.config.calendar_for(m.id))
        if found is not None:
            self._pending.append(self._done(m, found, now))

    def _done(self, m: MachineOrders, c: Changeover, now: datetime) -> ChangeoverDone:
        std = self.settings.standard(c.from_product, c.to_product)
        loss = None if std is None else max(0.0, c.duration_s - std)
        return ChangeoverDone(m.id, now, c, std, loss, m.seq)

    # --- out -----------------------------------------------------------------------------

    def publications(self, now: datetime) -> Iterator[list[Event]]:
        """Every machine's order progress (and changeovers completed by now)."""
        out: list[Event] = []
        current = {m.current for m in self.machines.values() if m.current is not None}
        self.book.forget(now - KEEP_DONE, current | {o.id for o in self.fixed})
        for m in self.machines.values():
            self._switch(m, now)  # the queue may have changed (intake, a restart)
            self._changeover(m, now)
            self._account(m, now)
            if m.current is not None or m.announced is not None:
                out.append(self._progress(m, now))
                m.announced = m.current
        out = [*self.drain(), *out]
        if out:
            yield out

    def drain(self) -> list[Event]:
        """The events not handed out yet (product changes, changeovers), in order."""
        out, self._pending = self._pending, []
        return out

    def _progress(self, m: MachineOrders, now: datetime) -> OrderProgress:
        if m.current is None:
            return OrderProgress(m.id, now)
        return self.report(m.current, now, m.source)

    def _once(self, key: str, msg: str, *args: object) -> None:
        if key not in self._said:
            self._said.add(key)
            log.warning(msg, *args)
