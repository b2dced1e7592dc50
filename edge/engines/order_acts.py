"""What people and other systems do to the order engine (`edge.engines.orders`): orders
sent to the intake topic, and an operator's start, pause, resume or end of an order
(`OrderCommand`)."""

from __future__ import annotations

from datetime import datetime

from core.orders import OrderCommand
from edge.engines.order_book import OrderBook
from edge.engines.order_intake import parse_orders
from edge.engines.order_machine import MachineOrders
from oee.orders import WorkOrder

__all__ = ["OrderActs"]


class OrderActs:
    """`intake` and `command` of the order engine."""

    book: OrderBook
    machines: dict[str, MachineOrders]
    refused: int
    _tagged: dict[str, str]

    def _once(self, key: str, msg: str, *args: object) -> None: ...

    def _account(self, m: MachineOrders, until: datetime) -> None: ...

    def _switch(self, m: MachineOrders, ts: datetime) -> None: ...

    def intake(self, payload: bytes) -> tuple[list[WorkOrder], list[str]]:
        """Orders sent to the intake topic: taken (idempotent by id), or refused, each
        refusal logged once and counted. The machines concerned publish at once."""
        orders, errors = parse_orders(payload, self.machines)
        for err in errors:
            self.refused += 1
            self._once(f"intake:{err}", "order refused at the intake: %s", err)
        changed = []
        for order in orders:
            before = self.book.orders.get(order.id)
            if self.book.put(order):
                changed.append(order)
                for mid in {order.machine, before.machine if before else order.machine}:
                    self.machines[mid].announced = "\0"  # publish it again
        return changed, errors

    def command(self, m: MachineOrders, e: OrderCommand) -> None:
        """An operator's start, pause, resume or end of an order."""
        order = self.book.orders.get(e.order)
        if order is None or order.machine != m.id or m.id in self._tagged:
            why = "unknown order" if order is None else "not this machine's or tag-driven"
            self._once(f"cmd:{m.id}:{e.order}", "%s: %s of %s ignored (%s)", m.id, e.action,
                       e.order, why)  # fmt: skip
            return
        run = self.book.runs[e.order]
        if e.action == "end":
            self._account(m, e.ts)
            run.started = run.started or e.ts
            run.ended = run.ended or e.ts
            if run.paused_now:
                run.paused[-1] = (run.paused[-1][0], e.ts)
            m.operator, m.held = (None, False) if m.operator == e.order else (m.operator, m.held)
        elif e.action == "pause":
            m.operator, m.held = e.order, True
        else:
            run.ended = None if e.action == "resume" else run.ended
            m.operator, m.held = e.order, False
        self._switch(m, e.ts)
