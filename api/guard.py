"""What every request meets before a route: the key before the body, the body's size
before it is read, its JSON before FastAPI parses it; and the security headers on
every answer.

FastAPI reads and parses a body before it resolves a route's dependencies, so the key
check of `api.auth` alone came after a 100 MB body had been read and parsed (815 MB
RSS, the polls stopped for 5 s). Here, as ASGI middleware in front of the routes:

1. `/api/v1/…` and `/metrics` need a key (when keys are configured): 401 without, 403
   for a key whose scope is below what the method and path need (`required_scope`),
   decided from the headers alone;
2. a declared `Content-Length` over `api.limits.max_body_bytes` is a 413, and a body
   without one (chunked) is counted as it comes and cut at the limit;
3. a JSON body must be JSON: NaN, Infinity and numbers out of range (1e309) are a 422,
   so no route ever holds a float that its answer cannot encode.

A refusal that leaves a body unread says `Connection: close`: the server then drops the
connection instead of reading the rest. The routes keep their own key dependencies
(they document the schemes in OpenAPI and check again).
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import UNAUTHORIZED, allows, find_key, forbidden, offered, required_scope
from edge.config import ApiConfig

__all__ = ["SECURITY_HEADERS", "RequestGuard", "SecurityHeaders", "json_problem"]

_PREFLIGHT = "OPTIONS"  # answered by the CORS middleware outside (no key, no body)

#: Sent with every answer. The pages load only their own scripts, styles and images
#: (the live page's and /docs' from the gateway itself), never a CDN; nothing may frame
#: them (clickjacking of the reason buttons).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """ASGI middleware adding `SECURITY_HEADERS` to every answer (a route's own win)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(status: int, detail: str, close: bool, **headers: str) -> Response:
    """An `ErrorOut` answer; `close`: the body was not read, so the connection ends."""
    if close:
        headers["connection"] = "close"
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")


def _declared_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(name)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e309 reads as inf
        raise _NotJson(text)
    return value


def json_problem(body: bytes) -> str | None:
    """Why `body` is not strict JSON (RFC 8259), or None when it is."""
    try:
        json.loads(body, parse_constant=_constant, parse_float=_finite)
    except _NotJson:
        return "NaN, Infinity and numbers out of range are not JSON"
    except json.JSONDecodeError as e:
        return f"not JSON: {e.msg} (at character {e.pos})"
    except (ValueError, RecursionError) as e:  # not UTF-8, a 5,000-digit integer, [[[[…
        return f"not JSON: {str(e)[:120]}"
    return None


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body read here, then the server's messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class RequestGuard:
    """ASGI middleware: the key, the body's size and its JSON, in that order (above)."""

    def __init__(self, app: ASGIApp, api: ApiConfig) -> None:
        self.app = app
        self.api = api
        self.limit = api.limits.max_body_bytes
        self.too_large = (
            f"the request body is larger than {self.limit} bytes (api.limits.max_body_bytes)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refuse_key(scope, headers) or self._refuse_length(headers)
        if refusal is None and _has_body(headers):
            body, refusal = await self._read_body(receive, headers)
            receive = _replay(body, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _refuse_key(self, scope: Scope, headers: Headers) -> Response | None:
        """401/403 for a protected path, from the headers alone."""
        path, method = scope["path"], scope["method"]
        protected = path.startswith("/api/v1/") or path == "/metrics"
        if not protected or method == _PREFLIGHT or not self.api.all_keys():
            return None
        close = _has_body(headers)
        key = find_key(self.api, offered(headers.get("authorization"), headers.get("x-api-key")))
        if key is None:
            return _error(401, UNAUTHORIZED, close, **{"www-authenticate": "Bearer"})
        needed = required_scope(method, path)
        if not allows(key, needed):
            return _error(403, forbidden(key, needed), close)
        return None

    def _refuse_length(self, headers: Headers) -> Response | None:
        length = _declared_length(headers)
        if length is not None and length > self.limit:
            return _error(413, self.too_large, close=True)
        return None

    async def _read_body(self, receive: Receive, headers: Headers) -> tuple[bytes, Response | None]:
        """The whole body (at most the limit, which a chunked body may reach only while
        it is read) and the refusal it earns, if any."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return b"", _Gone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return b"", _error(413, self.too_large, close=True)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type")):
            problem = json_problem(body)
            if problem is not None:
                return body, _error(422, f"invalid request: body: {problem}", close=False)
        return body, None


class _Gone(Response):
    """Nothing to answer: the client closed the connection before its body was read."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None
