"""The `orders:` section (issue 19): how orders are judged (at-risk margin, the current
rate's window, the run-up to rate after a changeover), the standard changeover times per
product pair, the orders fixed in the config and the MQTT topic an MES publishes orders
to (README "Configuration", "Orders"). `OrderIn` is also the schema of one order sent
to the intake topic (docs/asyncapi.yaml `orderIntake`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field

from core.config import Model, within
from edge.config.oee import Problem
from oee.orders import WorkOrder

__all__ = ["ChangeoverStandard", "OrderIn", "OrdersConfig", "order_problems"]

#: The default intake topic; `{prefix}` and `{site}` are the MQTT prefix and the site.
DEFAULT_INTAKE = "{prefix}/{site}/orders/in"
_TEXT = Field(min_length=1, max_length=200)


class OrderIn(Model):
    """One work order: `quantity` good parts of `product` on `machine` by `due` (an
    aware time: with a UTC offset or `Z`)."""

    id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")]
    product: Annotated[str, _TEXT]
    quantity: Annotated[int, within(1, 10**9, "parts")]
    due: AwareDatetime
    machine: Annotated[str, _TEXT]
    planned_start: AwareDatetime | None = None
    ideal_cycle_s: Annotated[float, within(0.001, 86400, "seconds")] | None = None
    customer: Annotated[str, _TEXT] | None = None

    def to_order(self) -> WorkOrder:
        """The pure `oee.orders.WorkOrder`."""
        return WorkOrder(
            self.id, self.product, self.quantity, self.due, self.machine,
            self.planned_start, self.ideal_cycle_s, self.customer,
        )  # fmt: skip


class ChangeoverStandard(Model):
    """The standard changeover time from product `from` (`*`: any) to product `to`."""

    from_: Annotated[str, _TEXT] = Field(alias="from")
    to: Annotated[str, _TEXT]
    standard_s: Annotated[float, within(0, 7 * 86400, "seconds")]


class OrdersConfig(Model):
    """How orders are judged and where they come from."""

    at_risk_margin_s: Annotated[float, within(0, 30 * 86400, "seconds")] = Field(
        default=3600, description="at risk when expected to finish this close to due"
    )
    rate_window_s: Annotated[float, within(60, 86400, "seconds")] = Field(
        default=900, description="the current rate's window of production time"
    )
    ramp_fraction: Annotated[float, within(0.01, 1)] = Field(
        default=0.9, description="at rate again: this share of the ideal rate"
    )
    ramp_window_s: Annotated[float, within(1, 86400, "seconds")] = Field(
        default=300, description="over this window after a changeover"
    )
    changeover_standards: list[ChangeoverStandard] = Field(default_factory=list)
    fixed: list[OrderIn] = Field(default_factory=list, description="orders of the config")
    intake_topic: str | None = Field(
        default=DEFAULT_INTAKE, pattern=r"^[^#+]+$", description="null: no MQTT intake"
    )

    def standard(self, from_product: str, to_product: str) -> float | None:
        """The standard changeover seconds from one product to another: of the exact
        pair, else of `*` to it; None when none is configured (or the same product)."""
        if from_product == to_product:
            return None
        found = {(s.from_, s.to): s.standard_s for s in self.changeover_standards}
        exact = found.get((from_product, to_product))
        return exact if exact is not None else found.get(("*", to_product))

    def topic(self, prefix: str, site: str) -> str | None:
        """The intake topic with `{prefix}` and `{site}` filled in (None: off)."""
        if self.intake_topic is None:
            return None
        return self.intake_topic.replace("{prefix}", prefix).replace("{site}", site)


def order_problems(orders: OrdersConfig, machines: set[str]) -> list[Problem]:
    """A fixed order naming no configured machine, or an id used twice (field paths)."""
    out: list[Problem] = []
    seen: set[str] = set()
    for i, o in enumerate(orders.fixed):
        at: tuple[str | int, ...] = ("orders", "fixed", i)
        if o.id in seen:
            out.append(((*at, "id"), f"order id '{o.id}' is used twice: ids must be unique"))
        seen.add(o.id)
        if o.machine not in machines:
            known = ", ".join(sorted(machines))
            out.append(((*at, "machine"), f"no machine '{o.machine}': known are {known}"))
    return out
