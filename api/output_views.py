"""Output against target in the API's answers (`oee.targets`; docs/OEE.md "Targets and
rate"): the same fields, names and rounding as MQTT `…/output`."""

from __future__ import annotations

from api.schemas import OutputOut, ZonedShiftOut
from connectors.common.outputdoc import output_figures
from core.types import LineOutputUpdate, OutputUpdate, ShiftRef

__all__ = ["output_out", "shift_out"]


def shift_out(s: ShiftRef) -> ZonedShiftOut:
    """The API face of a shift occurrence."""
    return ZonedShiftOut(
        id=s.id, name=s.name, date=s.date, start=s.start, end=s.end, timezone=s.timezone
    )


def output_out(u: OutputUpdate | LineOutputUpdate | None) -> OutputOut | None:
    """The figures of an output update (None without one)."""
    if u is None:
        return None
    return OutputOut(ts=u.ts, final=u.final, shift=shift_out(u.shift), **output_figures(u.output))  # type: ignore[arg-type]
