"""Configured output targets (`targets:` of a machine or a line; docs/OEE.md "Targets and
rate"). Without any, a machine's target is its ideal rate over the shift's planned time
and a line's the sum of its machines'.

Re-exported by `edge.config`; `target_problems` checks the names against the shifts of
the calendar that applies and the products the machine knows (`Config` calls it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field

from core.config import Model, within
from oee.calendar import Calendar

Problem = tuple[tuple[str | int, ...], str]  # as edge.config.oee's (which imports this)

__all__ = ["LineTargetsConfig", "TargetsConfig", "target_problems"]

# A part every 0.036 s at most (100000 per hour), one in ten hours at least.
PerHour = Annotated[float, within(0.1, 100_000, "parts per hour")]
PerShift = Annotated[int, within(1, 100_000_000, "parts")]


class LineTargetsConfig(Model):
    """A line's target per shift name, in good parts; replaces its machines' sum."""

    per_shift: dict[str, PerShift] = Field(
        default_factory=dict, description="shift name -> good parts the shift should make"
    )


class TargetsConfig(LineTargetsConfig):
    """A machine's targets: per shift name in parts (wins), else per product in parts per
    hour of planned time (instead of the product's ideal rate)."""

    per_hour: dict[str, PerHour] = Field(
        default_factory=dict, description="product code -> good parts per planned hour"
    )


def target_problems(
    where: tuple[str | int, ...],
    targets: LineTargetsConfig | None,
    calendar: Calendar,
    products: Iterable[str] | None = None,
) -> list[Problem]:
    """Shift names the calendar does not have, product codes the machine does not know
    (`products` None: any code; a machine without `products` reads any)."""
    if targets is None:
        return []
    problems: list[Problem] = []
    shifts = [s.name for s in calendar.shifts]
    for name in targets.per_shift:
        if name not in shifts:
            known = ", ".join(shifts) or "none: the calendar runs 24/7"
            msg = f"'{name}' is not a shift of this calendar (shifts: {known})"
            problems.append(((*where, "per_shift", name), msg))
    known_products = list(products) if products is not None else []
    for code in getattr(targets, "per_hour", {}):
        if known_products and code not in known_products:
            msg = f"'{code}' is not under `products` (known: {', '.join(known_products)})"
            problems.append(((*where, "per_hour", code), msg))
    return problems
