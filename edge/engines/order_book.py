"""The order book of the order engine (issue 19): the known work orders, what happened to
each (`RunState`: started, ended, pauses, counts, seconds by state, the good count's
points for the rates) and the queue of a machine, with their JSON form for the engine's
checkpoints (`edge.engines.orders`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from oee.orders import OrderRun, WorkOrder

__all__ = ["OrderBook", "RunState", "order_doc", "order_from_doc"]

# A point of the good count is kept at most every this long (the last one moves up to
# the latest count): the rates spread parts between points, so a 15-min window loses
# nothing that matters and a day of points stays small.
POINT_STEP = timedelta(seconds=10)
# Points older than this are dropped (the shift's rate reaches back at most a shift).
POINT_KEEP = timedelta(hours=26)
_FAR = datetime.max.replace(tzinfo=None)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _time(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


@dataclass(slots=True)
class RunState:
    """What happened to one order so far (mutable; `run()` is the pure `OrderRun`)."""

    started: datetime | None = None
    ended: datetime | None = None
    good: int = 0
    reject: int = 0
    scrap: int = 0
    paused: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    state_s: dict[str, float] = field(default_factory=dict)
    points: list[tuple[datetime, int]] = field(default_factory=list)
    completed: datetime | None = None  # when the good count reached the quantity

    def run(self) -> OrderRun:
        """The `oee.orders.OrderRun` of it."""
        return OrderRun(
            self.started, self.ended, max(0, self.good), max(0, self.reject), self.scrap,
            tuple(self.paused), self.completed,
        )  # fmt: skip

    @property
    def paused_now(self) -> bool:
        return bool(self.paused) and self.paused[-1][1] is None

    def count(self, ts: datetime, good: int, reject: int, quantity: int | None = None) -> None:
        """Parts counted for the order at `ts` (a move from good to reject included);
        `quantity`, the order's, dates the instant it is complete (undone by scrap)."""
        self.good += good
        self.reject += reject
        if quantity is not None:
            done = self.good >= quantity
            self.completed = (self.completed or ts) if done else None
        if len(self.points) >= 2 and ts - self.points[-2][0] < POINT_STEP:
            self.points[-1] = (ts, self.good)
        else:
            self.points.append((ts, self.good))
        while self.points and ts - self.points[0][0] > POINT_KEEP:
            self.points.pop(0)

    def dump(self) -> dict[str, Any]:
        return {
            "started": _iso(self.started), "ended": _iso(self.ended), "good": self.good,
            "reject": self.reject, "scrap": self.scrap,
            "paused": [[_iso(a), _iso(b)] for a, b in self.paused], "state_s": self.state_s,
            "points": [[t.isoformat(), n] for t, n in self.points],
            "completed": _iso(self.completed),
        }  # fmt: skip

    @classmethod
    def load(cls, d: dict[str, Any]) -> RunState:
        paused = [(_time(a), _time(b)) for a, b in d["paused"]]
        return cls(
            _time(d["started"]), _time(d["ended"]), int(d["good"]), int(d["reject"]),
            int(d["scrap"]), [(a, b) for a, b in paused if a is not None],
            {k: float(v) for k, v in d["state_s"].items()},
            [(datetime.fromisoformat(t), int(n)) for t, n in d["points"]],
            _time(d.get("completed")),  # absent from the first checkpoints
        )  # fmt: skip


def order_doc(o: WorkOrder) -> dict[str, Any]:
    """An order as the intake schema writes it (times ISO 8601 in UTC)."""
    return {
        "id": o.id, "product": o.product, "quantity": o.quantity, "due": o.due.isoformat(),
        "machine": o.machine, "planned_start": _iso(o.planned_start),
        "ideal_cycle_s": o.ideal_cycle_s, "customer": o.customer,
    }  # fmt: skip


def order_from_doc(d: dict[str, Any]) -> WorkOrder:
    """The inverse of `order_doc`."""
    due = datetime.fromisoformat(d["due"])
    start = _time(d.get("planned_start"))
    return WorkOrder(
        d["id"], d["product"], d["quantity"], due, d["machine"], start,
        d.get("ideal_cycle_s"), d.get("customer"),
    )  # fmt: skip


class OrderBook:
    """Every known order by id, and its run."""

    def __init__(self) -> None:
        self.orders: dict[str, WorkOrder] = {}
        self.runs: dict[str, RunState] = {}
        # Each machine's order ids: the queue is asked at counts, on the hot path.
        self._of: dict[str, set[str]] = {}

    def put(self, order: WorkOrder, run: RunState | None = None) -> bool:
        """Add or update `order` (with `run`, a restored one); False when it is known
        exactly so (idempotent by id)."""
        before = self.orders.get(order.id)
        if before == order and run is None:
            return False
        if before is not None:
            self._of[before.machine].discard(order.id)
        self._of.setdefault(order.machine, set()).add(order.id)
        self.orders[order.id] = order
        self.runs[order.id] = run or self.runs.get(order.id) or RunState()
        return True

    def done(self, order_id: str) -> bool:
        """Ended, or its good count reached the quantity."""
        run, order = self.runs[order_id], self.orders[order_id]
        return run.ended is not None or run.good >= order.quantity

    def queue(self, machine: str) -> list[WorkOrder]:
        """The machine's orders not done, by planned start (none: last), then due, then id."""
        mine = [self.orders[i] for i in self._of.get(machine, ()) if not self.done(i)]
        return sorted(mine, key=lambda o: (o.planned_start is None, o.planned_start or o.due,
                                           o.due, o.id))  # fmt: skip

    def forget(self, before: datetime, keep: set[str]) -> list[str]:
        """Drop the orders done before `before` (ended, or complete at their last count)
        but those in `keep`; their ids. Their history stays in the store."""
        gone = [
            i for i, r in self.runs.items()
            if i not in keep and self.done(i)
            and (r.ended or (r.points[-1][0] if r.points else before)) < before
        ]  # fmt: skip
        for i in gone:
            self._of[self.orders[i].machine].discard(i)
            del self.orders[i], self.runs[i]
        return gone

    def remove(self, order_id: str) -> None:
        """Drop `order_id` and its run (KeyError: unknown)."""
        order = self.orders.pop(order_id)
        del self.runs[order_id]
        self._of[order.machine].discard(order_id)

    def has(self, machine: str) -> bool:
        """Whether `machine` has any order."""
        return bool(self._of.get(machine))

    def of_machine(self, machine: str) -> list[str]:
        """The ids of the orders of `machine`, sorted."""
        return sorted(self._of.get(machine, ()))
