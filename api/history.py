"""What the history routes share: their range (defaults, order, `max_range_days`), the
size of a page, and their answers as JSON bytes.

The API runs on the event loop that polls the machines, so a long answer built there
(10,000 intervals as models, then as JSON) is a gap in every machine's polls: the
routes read, build and encode it in a history job (`api.offload`) and send the bytes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from api.context import ApiContext, ApiError
from edge.config import ApiLimits

__all__ = ["DEFAULT_RANGE", "check_span", "history_range", "json_bytes", "limits", "page_size"]

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


def json_bytes(model: BaseModel) -> bytes:
    """`model` as FastAPI would encode it (field aliases: `from`); the history jobs
    (`api.offload`) send their answers so, built where the job runs."""
    return model.model_dump_json(by_alias=True).encode()
