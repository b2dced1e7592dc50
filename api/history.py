"""What the history routes share: their range (defaults, order, `max_range_days`), the
size of a page, and the answer rendered off the event loop.

The API runs on the event loop that polls the machines, so a long answer built there
(10,000 intervals as models, then as JSON) is a gap in every machine's polls. The
routes read the store (which decodes its rows in a worker thread), then build and
encode their answer in a worker thread too (`render`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.responses import Response
from pydantic import BaseModel

from api.context import ApiContext, ApiError
from edge.config import ApiLimits

__all__ = ["DEFAULT_RANGE", "check_span", "history_range", "limits", "page_size", "render"]

#: The range of a history route without `from`: the hour before `to`.
DEFAULT_RANGE = timedelta(hours=1)


def limits(ctx: ApiContext) -> ApiLimits:
    return ctx.config.api.limits


def check_span(ctx: ApiContext, start: datetime, end: datetime) -> None:
    """422 for a range longer than `api.limits.max_range_days`."""
    days = limits(ctx).max_range_days
    if end - start > timedelta(days=days):
        raise ApiError(422, f"`from` to `to` spans more than {days} days; ask for less")


def history_range(
    ctx: ApiContext, start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """[from, to) with the defaults (`to` now, `from` an hour before), or a 422."""
    stop = end or now
    begin = start or stop - DEFAULT_RANGE
    if begin >= stop:
        raise ApiError(422, "`from` must be earlier than `to`")
    check_span(ctx, begin, stop)
    return begin, stop


def page_size(ctx: ApiContext, limit: int | None) -> int:
    """The rows of one answer: `limit`, at most (and by default) `api.limits.max_rows`."""
    most = limits(ctx).max_rows
    if limit is not None and limit > most:
        raise ApiError(422, f"`limit` may be at most {most} (api.limits.max_rows)")
    return most if limit is None else limit


async def render(build: Callable[[], BaseModel]) -> Response:
    """The JSON answer of `build()`, built and encoded in a worker thread, as FastAPI
    would encode the model (field aliases: `from`)."""

    def run() -> bytes:
        return build().model_dump_json(by_alias=True).encode()

    return Response(await asyncio.to_thread(run), media_type="application/json")
