"""One InfluxDB write request and what its answer means for the data in it.

`InfluxWriter.write(body)` posts line protocol to `/write` (v1, before InfluxDB 1.8) or
the v2 write API (through influxdb-client), detecting which from `/ping` when the config
says `auto`. It returns on success (204) and otherwise raises `WriteFailed`, whose
`verdict` tells the sink what to do with the lines:

- `BAD_DATA` (400, 422): the server refuses some points (parse error, field type
  conflict, "partial write"); sending them again cannot help.
- `TOO_LARGE` (413): the request body is over the server's limit; smaller ones may pass.
- `RETRY` (no answer: connection refused, timeout, TLS...; 429, 5xx, and the other
  statuses that a server or an operator may fix, e.g. 401, 404 "database not found"):
  the same lines later, after `retry_after_s` when the server said so.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import time
from enum import Enum
from typing import Any, Literal

import httpx

from connectors.influxdb.config import InfluxConfig
from connectors.influxdb.influxql import http_client, ssl_context

__all__ = ["Api", "InfluxWriter", "Verdict", "WriteFailed", "api_for_version", "retry_after"]

# The name it had before the move: operators filter on it.
log = logging.getLogger("connectors.influxdb_write")

Api = Literal["v1", "v2"]
_VERSION = re.compile(r"v?(\d+)\.(\d+)")


def api_for_version(version: str | None) -> Api:
    """The write API for a `/ping` `X-Influxdb-Version`: v1 before 1.8, else v2.

    No header (victoria-metrics) or an unreadable one means a modern server: v2.
    """
    m = _VERSION.match(version or "")
    if m is None:
        return "v2"
    return "v1" if (int(m.group(1)), int(m.group(2))) < (1, 8) else "v2"


class Verdict(Enum):
    BAD_DATA = "bad data"
    TOO_LARGE = "too large"
    RETRY = "retry"


def verdict_for(status: int | None) -> Verdict:
    if status in (400, 422):
        return Verdict.BAD_DATA
    if status == 413:
        return Verdict.TOO_LARGE
    return Verdict.RETRY


class WriteFailed(Exception):
    """A write that did not succeed: `status` None when no HTTP answer came back."""

    def __init__(
        self, status: int | None, message: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"HTTP {status}: {message}" if status is not None else message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s
        self.verdict = verdict_for(status)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date.
    None when absent or unreadable; never negative."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def server_message(text: str | bytes | None) -> str:
    """The reason in an error answer: InfluxDB 1.x says {"error": ...}, 2.x and
    influxdb-client {"message": ...}; anything else is taken as it is."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = (text or "").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:1000]
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])[:1000]
    return text[:1000]


class InfluxWriter:
    """The write side of one InfluxDB: an httpx client for /ping and /write, and an
    influxdb-client for the v2 API (created on its first use). Close with `aclose()`."""

    def __init__(self, config: InfluxConfig) -> None:
        self._cfg = config
        self.api: Api | None = None if config.api == "auto" else config.api
        self._http: httpx.AsyncClient = http_client(config)
        self._v2: Any = None  # influxdb_client.InfluxDBClient

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._v2 is not None:
            await asyncio.to_thread(self._v2.close)

    async def write(self, body: bytes) -> None:
        """Write `body` (lines of line protocol, ns timestamps); WriteFailed if not."""
        try:
            api = self.api or await self._detect()
            if api == "v1":
                await self._write_v1(body)
            else:
                await asyncio.to_thread(self._write_v2, body)
        except WriteFailed:
            raise
        except Exception as e:  # connection refused, timeouts, DNS, TLS...: all worth a retry
            raise WriteFailed(None, f"{type(e).__name__}: {e}") from None

    async def _detect(self) -> Api:
        r = await self._http.get("/ping")
        version = r.headers.get("X-Influxdb-Version")
        self.api = api_for_version(version)
        log.info(
            "InfluxDB at %s is version %s: using the %s write API", self._cfg.url, version, self.api
        )
        return self.api

    async def _write_v1(self, body: bytes) -> None:
        params = {"db": self._cfg.database, "precision": "ns"}
        r = await self._http.post("/write", params=params, content=body)
        if not 200 <= r.status_code < 300:
            wait = retry_after(r.headers.get("Retry-After"))
            raise WriteFailed(r.status_code, server_message(r.text), wait)

    def _write_v2(self, body: bytes) -> None:
        """Runs in a worker thread: influxdb-client's synchronous API blocks (and, with
        its default `retries=False`, never retries by itself)."""
        from influxdb_client import InfluxDBClient, WritePrecision
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.rest import ApiException

        cfg = self._cfg
        if self._v2 is None:
            self._v2 = InfluxDBClient(
                url=cfg.url,
                token=_v2_token(cfg),  # type: ignore[arg-type]  # None: no auth header
                org=cfg.org,
                timeout=int(cfg.timeout_s * 1000),
                ssl_context=ssl_context(cfg.tls),
            )
        write_api = self._v2.write_api(write_options=SYNCHRONOUS)
        try:
            write_api.write(
                bucket=cfg.bucket or cfg.database,
                org=cfg.org,
                record=body,
                write_precision=WritePrecision.NS,
            )
        except ApiException as e:
            wait = retry_after(getattr(e, "retry_after", None))
            raise WriteFailed(e.status or 0, server_message(e.body or e.reason), wait) from None


def _v2_token(cfg: InfluxConfig) -> str | None:
    if cfg.token:
        return cfg.token.get_secret_value()
    if cfg.username:  # InfluxDB 1.8's v2 API takes "user:password" as the token
        pw = cfg.password.get_secret_value() if cfg.password else ""
        return f"{cfg.username}:{pw}"
    return None
