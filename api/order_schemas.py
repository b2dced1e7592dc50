"""Request and response models of the orders API (issue 19): orders with their live
progress, an order put or imported, an operator's command on an order, plan versus
actual, and the changeovers with their per-pair figures (docs/API.md "Orders")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.oee_schemas import In
from api.schemas import Out, Timestamp
from core.orders import OrderAction
from oee.orders import Status

__all__ = [
    "ChangeoverOut", "ChangeoversOut", "CommandIn", "ImportErrorOut", "ImportOut", "MatrixOut",
    "OrderDetailOut", "OrderOut", "OrderRowOut", "OrdersOut", "PairOut", "PlanOut", "PutOut",
    "RowError",
]  # fmt: skip


class OrderOut(Out):
    """An order's fields (the `order` of `…/order`, with its machine)."""

    id: str
    machine: str
    product: str
    quantity: int
    due: Timestamp
    planned_start: Timestamp | None
    ideal_cycle_s: float | None
    customer: str | None


class PauseOut(Out):
    start: Timestamp
    end: Timestamp | None = Field(description="null: paused now")


class ProgressOut(Out):
    """What happened to the order and its figures (docs/OEE.md "Progress of an order"):
    the `progress` of `…/order`, with the coverage of its time by state."""

    started: Timestamp | None
    ended: Timestamp | None
    paused: list[PauseOut]
    good: int
    reject: int
    scrap: int
    remaining: int
    percent: float
    production_s: float | None
    rate_now: float | None = Field(description="good parts per second of production time")
    rate_shift: float | None
    eta_now: Timestamp | None
    eta_shift: Timestamp | None
    eta_ideal: Timestamp | None
    finished: Timestamp | None
    complete: bool
    on_time: bool | None
    state_s: dict[str, float | None] = Field(description="seconds by state while it ran")
    oee: float | None = Field(description="while it ran: good parts x ideal cycle / production_s")
    coverage: float | None = Field(
        description="the share of its time by state that was known (not offline); null "
        "before it ran"
    )


class OrderRowOut(Out):
    """An order with its live progress: `source` why it runs (`tag`, `operator`, `queue`;
    null: it is not its machine's current order), `current` whether it is."""

    ts: Timestamp
    order: OrderOut
    status: Status
    source: Literal["tag", "operator", "queue"] | None
    current: bool
    fixed: bool = Field(description="an order of the config (orders.fixed)")
    progress: ProgressOut


class OrdersOut(Out):
    """`GET /api/v1/orders`: the orders the book holds that match, by due then id."""

    orders: list[OrderRowOut]


class ChangeoverOut(Out):
    """One completed changeover, as `…/changeover` carries it, with its machine."""

    machine: str
    ts: Timestamp
    seq: int
    from_product: str
    to_product: str
    from_order: str | None
    to_order: str | None
    start: Timestamp
    end: Timestamp
    duration_s: float
    at_rate: Timestamp | None
    parts_to_rate: int | None
    reason: str | None
    standard_s: float | None
    loss_s: float | None


class OrderDetailOut(OrderRowOut):
    """`GET /api/v1/orders/{id}`: the order, its run and figures, and the changeovers into
    and out of it."""

    changeovers: list[ChangeoverOut]


class PutOut(Out):
    """What `POST /api/v1/orders` did: `created` (201), `updated` or `unchanged` (200)."""

    outcome: Literal["created", "updated", "unchanged"]
    order: OrderOut


class ImportOut(Out):
    """What `POST /api/v1/orders/import` did (or, with `dry_run`, would do): the ids."""

    dry_run: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class RowError(Out):
    """One problem of an import: `row` the line of the CSV file (the header is line 1)
    or the index in the JSON list; `field` the column (null: the row as a whole)."""

    row: int
    field: str | None
    message: str


class ImportErrorOut(Out):
    """A refused import: nothing was taken; every problem of every row (none listed when
    the request itself is wrong, e.g. a bad `dry_run`)."""

    detail: str
    errors: list[RowError] = Field(default_factory=list)


class CommandIn(In):
    """Body of `POST /machines/{id}/order`."""

    order: str = Field(min_length=1, max_length=100)
    action: OrderAction


class PlanOrderOut(Out):
    """One order in the period: its planned and produced good parts there."""

    order: str
    planned: float
    produced: int


class PlanOut(Out):
    """Plan versus actual of a period (docs/OEE.md "Plan versus actual")."""

    period: Literal["shift", "day", "week"]
    id: str = Field(description="the shift's id, the plant date, or the week's Monday")
    timezone: str
    start: Timestamp
    end: Timestamp
    at: Timestamp = Field(description="as known then: the period's end, or now")
    planned: float
    produced: int
    attainment: float | None
    volume_mix: float | None
    sequence: float | None
    sequence_orders: int
    in_window: float | None
    window_orders: int
    otd_count: float | None
    otd_quantity: float | None
    delivered_orders: int
    on_time_orders: int
    delivered_quantity: int
    on_time_quantity: int
    orders: list[PlanOrderOut]
    delivered: list[str] = Field(description="the orders decided in the period")
    late: list[str] = Field(description="of those, the ones not complete by due")
    unplanned: list[str] = Field(
        description="orders without planned_start: in no plan, counted for delivery only"
    )


class ChangeoversOut(Out):
    """`GET /api/v1/changeovers`: the changeovers that started in [from, to), by start."""

    from_: Timestamp = Field(serialization_alias="from")
    to: Timestamp
    changeovers: list[ChangeoverOut]
    truncated: bool = Field(description="more than api.limits.max_rows: the first ones")


class PairOut(Out):
    """The changeovers from one product to another (docs/OEE.md "Changeovers")."""

    from_product: str
    to_product: str
    count: int
    median_s: float
    p90_s: float
    trend_s_per_week: float | None = Field(description="null below 3 changeovers")
    standard_s: float | None
    loss_s: float | None = Field(description="the time over the standard, summed")


class MatrixOut(Out):
    """`GET /api/v1/changeovers/matrix`: per product pair, of the changeovers that
    started in [from, to)."""

    from_: Timestamp = Field(serialization_alias="from")
    to: Timestamp
    pairs: list[PairOut]
    changeovers: int
    truncated: bool
