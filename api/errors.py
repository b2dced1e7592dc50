"""The answers of requests that fail outside a route's own checks, in the one documented
error form (`ErrorOut`, `{"detail": "…"}`): FastAPI's validation errors (a bad query
parameter, path value or body) and anything unexpected.

FastAPI's own 422 lists each error with its `input`, so it echoed a 15 MB body (or a
key pasted into the wrong field) back; and an input holding NaN could not be encoded at
all (a 500). Here a 422 names each problem by where it is and what is wrong, never the
value sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = ["internal_error", "invalid_request", "validation_detail"]

log = logging.getLogger(__name__)

MAX_LISTED = 5  # problems named in one 422 (a body can have thousands)
_MAX_MESSAGE = 200


def _where(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: Mapping[str, Any]) -> str:
    # Our validators raise ValueError, which pydantic prefixes; the message is enough.
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")[:_MAX_MESSAGE]


def validation_detail(errors: Sequence[Mapping[str, Any]]) -> str:
    """`invalid request: query.from: …; body.code: …`: where and what, not the input."""
    parts = [f"{_where(e.get('loc', ()))}: {_message(e)}" for e in errors[:MAX_LISTED]]
    if len(errors) > MAX_LISTED:
        parts.append(f"and {len(errors) - MAX_LISTED} more")
    return "invalid request: " + "; ".join(parts)


async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's RequestValidationError as a 422 `ErrorOut`."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_detail(exc.errors())}, status_code=422)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug, still in the documented form (the traceback goes to the log, not the client)."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error: see the gateway's log"}, status_code=500)
