"""The webhook sink (`alarms.webhook`): every alarm change POSTed as JSON to one HTTP(S)
receiver, through the durable outbox, one request per change, in order.

`stage` commits each `AlarmChange` as a record of the queue `webhook` in the gateway's
transaction; a background task sends the oldest record and acks it once the receiver
answered 2xx. No answer (refused, timeout), 408, 429 or 5xx: the same record again after
a jittered backoff (`retry_min_s` doubling to `retry_max_s`), the outage logged once, so
nothing is lost and nothing overtakes it. Any other status (400, 401, 404, 410, …) means
the receiver will never take it: the record is dropped, counted
(`oee_edge_webhook_dropped_total`) and the status logged once per status code. The
header values (tokens) and the URL's path and query never appear in a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

from connectors.common.alarmdoc import change_document
from connectors.common.backoff import Backoff
from connectors.common.outage import OutageLog
from connectors.influxdb.influxql import ssl_context
from connectors.webhook.config import WebhookConfig
from core.alarms import AlarmChange
from core.interfaces import TransactionJournal
from core.records import Entry, Priority, Record, Transaction
from core.types import Event, MachineRef

__all__ = ["WebhookSink", "WebhookStats", "body"]

log = logging.getLogger("connectors.webhook")
_RETRY = frozenset({408, 425, 429})
_IDLE_S = 1.0  # how often an idle sink looks at its queue (commits also wake it)


@dataclass
class WebhookStats:
    """Counters for /metrics (`oee_edge_webhook_…_total`) and tests."""

    delivered: int = 0  # changes the receiver took (2xx), then acked
    retried: int = 0  # attempts answered 408, 429 or 5xx: sent again later
    errors: int = 0  # attempts without an answer: sent again later
    dropped: int = 0  # changes refused for good (another 4xx): dropped


def body(ev: AlarmChange, ref: MachineRef | None) -> bytes:
    """The JSON POSTed: `v`, `machine`, `path`, then the `…/alarm` payload's fields."""
    doc = {"v": 1, "path": ref.path if ref else None, **change_document(ev)}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _where(url: str) -> str:
    """The receiver as logs may show it: scheme, host and port, no path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class WebhookSink:
    """A `DurableSink` POSTing alarm changes to `config.url` from the outbox of `journal`."""

    name = "webhook"

    def __init__(
        self,
        config: WebhookConfig,
        machines: Mapping[str, MachineRef],
        *,
        journal: TransactionJournal,
        shutdown_timeout_s: float = 5.0,
    ) -> None:
        self._cfg = config
        self._machines = machines
        self._journal = journal
        self._outbox = journal.outbox
        self._shutdown_s = shutdown_timeout_s
        self._backoff = Backoff(config.retry_min_s, config.retry_max_s)
        self._where = _where(config.url)
        self._outage = OutageLog(log, f"webhook {self._where}")
        self._said: set[int] = set()  # status codes already logged as dropped
        self._wake = asyncio.Event()
        self._stopping = False
        self._stop = asyncio.Event()  # set at a stop: a backoff ends early
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self.stats = WebhookStats()
        self.connected = False

    async def __aenter__(self) -> Self:
        headers = {k: v.get_secret_value() for k, v in self._cfg.headers.items()}
        headers.setdefault("Content-Type", "application/json")
        verify = ssl_context(self._cfg.tls) or True
        self._client = httpx.AsyncClient(
            headers=headers, verify=verify, timeout=self._cfg.timeout_s
        )
        self._task = asyncio.create_task(self._run(), name=f"webhook {self._where}")
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Deliver what waits for at most `shutdown_timeout_s`; the rest stays queued."""
        self._stopping = True
        self._wake.set()
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, self._shutdown_s)
        if self._client is not None:
            await self._client.aclose()

    async def handle(self, events: Sequence[Event]) -> None:
        """Commit the alarm changes of `events` to the outbox."""
        async with self._journal.transaction() as tx:
            self.stage(events, tx)

    def stage(self, events: Sequence[Event], tx: Transaction) -> None:
        """A record per alarm change into `tx`; other events are not the webhook's."""
        records = [
            Record(self.name, Priority.EVENTS, body(e, self._machines.get(e.machine)))
            for e in events
            if isinstance(e, AlarmChange)
        ]
        if records:
            tx.add(records)
            tx.after_commit(self._wake.set)

    async def _run(self) -> None:
        while True:
            entries = await asyncio.to_thread(self._outbox.peek, self.name, 50)
            if not entries:
                if self._stopping:
                    return
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), _IDLE_S)
                continue
            for entry in entries:
                if not await self._deliver(entry):
                    return  # stopping with the receiver down: it stays queued
                await asyncio.to_thread(self._outbox.ack, self.name, [entry.id])

    async def _deliver(self, entry: Entry) -> bool:
        """POST one change until the receiver takes it or refuses it for good (True), or
        the sink stops meanwhile (False)."""
        while not await self._attempt(entry.data):
            if self._stopping:
                return False
            self._stop.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._backoff.next())
        return True

    async def _attempt(self, data: bytes) -> bool:
        """True when done with this record (taken or dropped); False: send it again."""
        assert self._client is not None
        try:
            answer = await self._client.post(self._cfg.url, content=data)
        except httpx.HTTPError as exc:
            self.stats.errors += 1
            self.connected = False
            self._outage.down(type(exc).__name__)
            return False
        status = answer.status_code
        if status < 300:
            self.stats.delivered += 1
        elif status in _RETRY or status >= 500:
            self.stats.retried += 1
            self.connected = False
            self._outage.down(f"HTTP {status}")
            return False
        else:
            self.stats.dropped += 1
            if status not in self._said:
                self._said.add(status)
                log.error("webhook %s refused an alarm change with HTTP %d: dropped (and "
                          "every further one it refuses so)", self._where, status)  # fmt: skip
        self.connected = True
        self._outage.up()
        self._backoff.reset()
        return True
