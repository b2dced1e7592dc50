"""InfluxDB: a buffering, batching sink (v1 `/write` or the v2 write API) and an InfluxQL
history reader (DESIGN.md, "InfluxDB schema").

The sink never blocks the pipeline: `handle()` encodes and buffers; a background task
flushes a batch when `batch_size` lines are waiting or `flush_interval_s` has passed,
and retries a failed batch with jittered backoff until the server takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from connectors.aio import within
from connectors.influxql import InfluxHistory, InfluxQueryError, http_client, ssl_context
from connectors.lineprotocol import encode
from edge.config import InfluxConfig
from edge.types import Event, LineOeeUpdate, MachineRef

__all__ = ["InfluxHistory", "InfluxQueryError", "InfluxSink", "InfluxStats", "api_for_version"]

log = logging.getLogger(__name__)

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


@dataclass
class InfluxStats:
    """Counters of the sink's work, for metrics and tests."""

    writes: int = 0  # write requests the server accepted
    lines_written: int = 0
    failed_writes: int = 0  # attempts that will be retried
    lines_rejected: int = 0  # dropped: the server said the data is bad (would never succeed)
    lines_dropped: int = 0  # dropped: buffer overflow, or still unsent at shutdown


class _Outcome(Enum):
    OK = 1
    REJECTED = 2
    RETRY = 3


class _HttpStatusError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text.strip()[:300]}")
        self.status = status


class InfluxSink:
    """Sink writing events as line protocol to InfluxDB (or anything speaking its API)."""

    name = "influxdb"

    def __init__(
        self,
        config: InfluxConfig,
        machines: dict[str, MachineRef],
        *,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_buffered_lines: int = 200_000,
        shutdown_timeout_s: float | None = None,
    ) -> None:
        self._cfg = config
        self._machines = machines
        # A line update is stored under the site of the machines on its line.
        self._line_refs = {ref.line: ref for ref in reversed(list(machines.values()))}
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._max_buffered = max(max_buffered_lines, config.batch_size)
        self._shutdown_timeout_s = shutdown_timeout_s or 2 * config.timeout_s
        self._api: Api | None = None if config.api == "auto" else config.api
        # In memory for now: a disk outbox (surviving restarts and long outages) replaces
        # this buffer in a later issue.
        self._buf: list[str] = []
        self._inflight: list[str] | None = None  # the batch being sent or retried
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._v2: Any = None  # influxdb_client.InfluxDBClient, created on first v2 write
        self._connected = False
        self._failures = 0
        self._overflowing = False
        self._unknown: set[str] = set()
        self.stats = InfluxStats()

    @property
    def connected(self) -> bool:
        """True while the last request to the server succeeded."""
        return self._connected

    @property
    def api(self) -> Api | None:
        """The write API in use ("v1"/"v2"), or None while `auto` has not reached /ping."""
        return self._api

    @property
    def buffered(self) -> int:
        """Lines waiting to be written."""
        return len(self._buf) + len(self._inflight or ())

    async def __aenter__(self) -> Self:
        self._http = http_client(self._cfg)
        self._task = asyncio.create_task(self._run(), name=f"influx-flush {self._cfg.url}")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=self._shutdown_timeout_s)
            if not done:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
        if self.buffered:
            log.error("InfluxDB: %d lines could not be written before shutdown", self.buffered)
            self.stats.lines_dropped += self.buffered
        if self._http is not None:
            await self._http.aclose()
        if self._v2 is not None:
            await asyncio.to_thread(self._v2.close)

    async def handle(self, events: Sequence[Event]) -> None:
        """Encode and buffer; never waits for the server."""
        for event in events:
            if isinstance(event, LineOeeUpdate):
                ref, what = self._line_refs.get(event.line), f"line '{event.line}'"
            else:
                ref, what = self._machines.get(event.machine), f"machine '{event.machine}'"
            if ref is None:
                if what not in self._unknown:
                    self._unknown.add(what)
                    log.warning("InfluxDB: no %s configured; not storing", what)
                continue
            self._buf.extend(encode(event, ref))
        over = len(self._buf) - self._max_buffered
        if over > 0:
            del self._buf[:over]  # the oldest go first: recent data matters most
            self.stats.lines_dropped += over
            if not self._overflowing:
                log.error("InfluxDB buffer full (%d lines): dropping oldest", self._max_buffered)
            self._overflowing = True
        if len(self._buf) >= self._cfg.batch_size:
            self._wake.set()

    # ------------------------------------------------------------------ flushing

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._cfg.flush_interval_s
        last = loop.time()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await within(self._wake.wait(), last + interval - loop.time())
            self._wake.clear()
            # Size wake-ups send full batches only; the timer sends the remainder too.
            due = loop.time() >= last + interval
            if due:
                last = loop.time()
            if not self._stop.is_set():
                await self._drain(everything=due)
        await self._final_flush()

    def _take(self) -> list[str]:
        n = self._cfg.batch_size
        batch, self._buf = self._buf[:n], self._buf[n:]
        self._inflight = batch
        return batch

    async def _drain(self, everything: bool) -> None:
        while not self._stop.is_set():
            batch = self._inflight
            if batch is None:
                if not self._buf or (not everything and len(self._buf) < self._cfg.batch_size):
                    return
                batch = self._take()
            if await self._send(batch) is _Outcome.RETRY:
                await self._sleep(self._next_backoff())
                everything = True  # after an outage, send the backlog without waiting
                continue
            self._inflight = None

    async def _final_flush(self) -> None:
        """At shutdown: one attempt per batch, stopping at the first failure."""
        while self._inflight is not None or self._buf:
            batch = self._inflight if self._inflight is not None else self._take()
            if await self._send(batch) is _Outcome.RETRY:
                return
            self._inflight = None

    async def _sleep(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await within(self._stop.wait(), delay)

    def _next_backoff(self) -> float:
        initial, most = self._backoff
        delay = min(most, initial * 2 ** min(self._failures - 1, 20))
        return delay * random.uniform(0.5, 1.0)  # jitter: gateways do not retry in lockstep

    async def _send(self, batch: list[str]) -> _Outcome:
        body = ("\n".join(batch) + "\n").encode()
        try:
            api = self._api or await self._detect()
            if api == "v1":
                await self._write_v1(body)
            else:
                await asyncio.to_thread(self._write_v2, body)
        except _HttpStatusError as e:
            if e.status in (400, 422):
                # Bad data (parse error, type conflict, partial write): retrying cannot help.
                log.error("InfluxDB rejected %d lines, dropping them: %s", len(batch), e)
                self.stats.lines_rejected += len(batch)
                self._succeeded()
                return _Outcome.REJECTED
            self._failed(e)
            return _Outcome.RETRY
        except Exception as e:  # connection refused, timeouts, DNS...: all worth a retry
            self._failed(e)
            return _Outcome.RETRY
        self.stats.writes += 1
        self.stats.lines_written += len(batch)
        self._succeeded()
        return _Outcome.OK

    def _failed(self, error: Exception) -> None:
        self.stats.failed_writes += 1
        self._failures += 1
        if self._connected or self._failures == 1:
            log.error(
                "InfluxDB at %s: write failed (%s: %s); buffering and retrying",
                self._cfg.url,
                type(error).__name__,
                error,
            )
        else:
            log.debug("InfluxDB still failing: %s", error)
        self._connected = False

    def _succeeded(self) -> None:
        if self._failures:
            log.info(
                "InfluxDB at %s reachable again after %d failures", self._cfg.url, self._failures
            )
        self._failures = 0
        self._connected = True
        self._overflowing = False

    async def _detect(self) -> Api:
        assert self._http is not None
        r = await self._http.get("/ping")
        version = r.headers.get("X-Influxdb-Version")
        self._api = api_for_version(version)
        log.info(
            "InfluxDB at %s is version %s: using the %s write API",
            self._cfg.url,
            version,
            self._api,
        )
        return self._api

    async def _write_v1(self, body: bytes) -> None:
        assert self._http is not None
        params = {"db": self._cfg.database, "precision": "ns"}
        r = await self._http.post("/write", params=params, content=body)
        if r.status_code != 204:
            raise _HttpStatusError(r.status_code, r.text)

    def _write_v2(self, body: bytes) -> None:
        """Runs in a worker thread: influxdb-client's synchronous API blocks."""
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
            raise _HttpStatusError(e.status or 0, str(e.body or e.reason)) from None


def _v2_token(cfg: InfluxConfig) -> str | None:
    if cfg.token:
        return cfg.token.get_secret_value()
    if cfg.username:  # InfluxDB 1.8's v2 API takes "user:password" as the token
        pw = cfg.password.get_secret_value() if cfg.password else ""
        return f"{cfg.username}:{pw}"
    return None
