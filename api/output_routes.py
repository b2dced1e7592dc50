"""A line's output against target in the shift (docs/API.md "Output against target"):
the figures the gateway last published on `…/{line}/_line/output`, for a page that
opens between two publications."""

from __future__ import annotations

from pydantic import Field

from api.context import Ctx, error_docs, find_line, v1_router
from api.output_views import output_out
from api.schemas import Out, OutputOut

router = v1_router(machine_routes=False)


class LineOutputOut(Out):
    """`GET /api/v1/lines/{line}/output`: null `output` before the first figures and on a
    calendar without shifts."""

    line: str
    machines: list[str] = Field(description="the machines the figures are of")
    output: OutputOut | None


@router.get("/lines/{line}/output", tags=["oee"], responses=error_docs(e404="Unknown line"))
async def get_line_output(line: str, ctx: Ctx) -> LineOutputOut:
    """The line's good, reject and total parts in the shift in progress (or the last
    shift's final figures) against its target, with its rate and whether it is on track:
    its machines' sums, or its bottleneck's figures (`rollup: bottleneck`)."""
    find_line(ctx, line)
    u = ctx.live.line_outputs.get(line)
    return LineOutputOut(line=line, machines=list(u.machines) if u else [], output=output_out(u))
