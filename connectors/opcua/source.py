"""The OPC UA source: one machine's tags by subscription or by batched polling.

Each connection is built from scratch: the endpoint (`connectors.opcua.endpoint`,
shared by the machines on one server) opens a session and reads the namespace array;
each machine then resolves its `nsu=` node ids to this run's indices, checks every node
once, and subscribes (or polls). When anything breaks — server restart, network drop,
session timeout, a namespace array in a new order — the whole session is dropped and
rebuilt with jittered backoff, so nothing from the old server run (indices,
subscription ids, monitored items) is ever reused. Meanwhile the machine reads as
all-bad, i.e. offline. Nodes that do not exist (yet) are retried per machine while the
session lives, so a PLC that loads its program after the server is up does not leave
tags dead.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

from asyncua import Client, ua

from connectors.common.latency import LatencyHistogram
from connectors.common.outage import OutageLog
from connectors.opcua.client import bounded
from connectors.opcua.config import OpcUaConnection, OpcUaTag
from connectors.opcua.endpoint import Endpoint
from connectors.opcua.monitoring import MonitoredTags
from connectors.opcua.pki import Pki
from connectors.opcua.reads import DECODE_ERRORS, BatchedReads, Undecodable
from connectors.opcua.session import (
    LINK_ERRORS,
    Down,
    Ended,
    Member,
    Session,
    SessionLost,
    Up,
    describe_failure,
)
from connectors.opcua.tags import TagTable
from core.types import SampleBatch, utc_now

__all__ = ["OpcUaSource", "OpcUaStats"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class OpcUaStats:
    """Counters for metrics."""

    connects: int = 0
    connect_failures: int = 0
    reconnects: int = 0
    reads: int = 0
    notifications: int = 0
    session_losses: int = 0


class OpcUaSource:
    """A `Source` of SampleBatches for one machine on one OPC UA server.

    The session comes from `endpoint` (`connectors.opcua.endpoint`), which the machines
    of a gateway with the same session settings share; without one the source has a
    session of its own. Everything per machine happens here, on that session."""

    def __init__(
        self,
        machine_id: str,
        conn: OpcUaConnection,
        tags: dict[str, OpcUaTag],
        *,
        pki: Pki,
        application_uri: str,
        numeric: Iterable[str] = (),
        clock: Callable[[], datetime] = utc_now,
        endpoint: Endpoint | None = None,
    ) -> None:
        self.machine_id = machine_id
        self.conn = conn
        self.stats = OpcUaStats()
        self.poll_duration = LatencyHistogram()  # read cycles (mode poll), for /metrics
        self._clock = clock
        self._table = TagTable(machine_id, conn, tags, numeric)
        self._reads = BatchedReads(conn.max_nodes_per_read)
        self._outage = OutageLog(log, f"opcua {machine_id} ({self.endpoint})")
        self._ever_connected = False
        self._link = endpoint or Endpoint(  # a session of its own
            conn, pki, application_uri=application_uri, name=f"oee-edge {machine_id}"
        )
        self._member: Member | None = None
        self._session: Session | None = None  # while the machine has one

    @property
    def endpoint(self) -> str:
        return self.conn.endpoint

    @property
    def connected(self) -> bool:
        return self._session is not None

    async def __aenter__(self) -> Self:
        return self  # connecting is the stream's business (the endpoint's, with backoff)

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._leave()

    async def _leave(self) -> None:
        member, self._member, self._session = self._member, None, None
        if member is not None:
            await self._link.leave(member)

    async def stream(self) -> AsyncIterator[SampleBatch]:
        """Batches until cancelled; all-bad batches (with `error`) while disconnected."""
        self._member = member = self._link.join(len(self._table.readers))
        try:
            while True:
                notice = await member.next()
                if isinstance(notice, Up):
                    self._up(notice.session)
                    try:
                        async for batch in self._on(notice.session, member):
                            yield batch
                    except Ended as ended:
                        notice = ended.down
                    except SessionLost as exc:
                        notice.session.drop(str(exc))  # for every member: rebuild it
                        notice = await member.until_down()
                if isinstance(notice, Down):
                    yield self._down(notice)
        finally:
            await self._leave()

    # ------------------------------------------------------------------ session

    def _up(self, session: Session) -> None:
        self._session = session
        self.stats.connects += 1
        self.stats.reconnects += self._ever_connected
        self._ever_connected = True
        self._outage.up()

    def _down(self, notice: Down) -> SampleBatch:
        if self._session is not None:
            self.stats.session_losses += 1
        else:
            self.stats.connect_failures += 1
        self._session = None
        self._outage.down(notice.error)
        self._table.forget()
        return self._table.batch(self._clock(), notice.error)

    async def _on(self, session: Session, member: Member) -> AsyncIterator[SampleBatch]:
        nodes = self._table.resolve(session.namespaces)  # read once by the endpoint
        if session.sub is None:
            async for batch in self._poll(session.client, nodes, member):
                yield batch
        else:
            async for batch in self._subscribe(session, nodes, member):
                yield batch

    async def _resolve(self, client: Client) -> dict[str, ua.NodeId]:
        """NodeIds of this server run for every resolvable tag; problems noted per tag."""
        try:
            namespaces = await bounded(client.get_namespace_array(), self.conn.timeout_s, client)
        except LINK_ERRORS as exc:
            raise SessionLost(describe_failure(exc)) from None
        return self._table.resolve(namespaces)

    def _retry_s(self) -> float:
        """How often tags that are not there yet (a namespace registered late, a node
        a PLC program adds when it loads) are looked for again: about as patiently as
        a lost server, within 1..10 s."""
        return min(max(self.conn.backoff_max_s, 1.0), 10.0)

    # ------------------------------------------------------------------ polling

    async def _poll(
        self, client: Client, nodes: dict[str, ua.NodeId], member: Member
    ) -> AsyncIterator[SampleBatch]:
        loop = asyncio.get_running_loop()
        interval = self.conn.poll_interval_s
        next_at = loop.time()
        retry_at = next_at + self._retry_s()  # the session resolved them just now
        while True:
            # A node that does not exist reads bad and is read again next poll, but a tag
            # whose namespace is missing has no NodeId to read: resolve it again.
            if len(nodes) < len(self._table.refs) and loop.time() >= retry_at:
                nodes = await self._resolve(client)
                retry_at = loop.time() + self._retry_s()
            now = self._clock()
            for name, dv in await self._read(client, nodes):
                self._accept(name, dv, now)
            yield self._table.batch(now)
            next_at = max(next_at + interval, loop.time())
            # Waiting on the notices, not sleeping: a lost session ends the wait at once.
            while loop.time() < next_at:
                await member.wait(next_at - loop.time())

    async def _read(
        self, client: Client, nodes: dict[str, ua.NodeId]
    ) -> list[tuple[str, ua.DataValue | Undecodable]]:
        started = time.perf_counter()
        out = await self._reads.read(functools.partial(self._read_values, client, True), nodes)
        self.poll_duration.observe(time.perf_counter() - started)
        return out

    async def _read_values(
        self, client: Client, counted: bool, node_ids: Sequence[ua.NodeId]
    ) -> list[ua.DataValue]:
        """One Read request of the nodes' values; `counted` in stats.reads (mode poll)."""
        params = ua.ReadParameters()
        params.NodesToRead = [
            ua.ReadValueId(NodeId=n, AttributeId=ua.AttributeIds.Value) for n in node_ids
        ]
        params.TimestampsToReturn = ua.TimestampsToReturn.Both
        try:
            values = await bounded(client.uaclient.read(params), self.conn.timeout_s, client)
        except DECODE_ERRORS:
            raise  # one value the library cannot decode: read_split isolates it
        except LINK_ERRORS as exc:
            raise SessionLost(describe_failure(exc)) from None
        self.stats.reads += counted
        return values

    def _accept(self, name: str, dv: ua.DataValue | Undecodable, now: datetime) -> None:
        if isinstance(dv, Undecodable):
            node = self._table.tags[name].node
            problem = f"node {node} holds a value the OPC UA library cannot decode ({dv.reason})"
            self._table.mark_bad(name, problem, now)
        else:
            self._table.accept(name, dv, now)

    # ------------------------------------------------------------------ subscription

    async def _subscribe(
        self, session: Session, nodes: dict[str, ua.NodeId], member: Member
    ) -> AsyncIterator[SampleBatch]:
        assert session.sub is not None
        client = session.client
        items = MonitoredTags(session.sub, self._table, self.conn, self._clock, member.first_handle)
        missing = await self._monitor(client, items, nodes, set(self._table.refs))
        loop = asyncio.get_running_loop()
        retry_at = loop.time() + self._retry_s()
        heartbeat = self.conn.publishing_interval_s
        # Until the first values arrive every tag would read as unknown (bad), which the
        # normaliser takes for offline: no heartbeat before them, unless none can come.
        initial_pending = missing != set(self._table.refs)
        while True:
            changes = await member.wait(heartbeat)
            if changes is None:
                if not initial_pending:
                    yield self._table.batch(self._clock())  # time-based rules need ticks
            else:
                initial_pending = False
                batches, values = items.apply(changes)
                self.stats.notifications += values
                for batch in batches:
                    yield batch
            if missing and loop.time() >= retry_at:
                nodes = await self._resolve(client)
                missing = await self._monitor(client, items, nodes, missing)
                retry_at = loop.time() + self._retry_s()

    async def _monitor(
        self, client: Client, items: MonitoredTags, nodes: dict[str, ua.NodeId], names: set[str]
    ) -> set[str]:
        """Monitor the tags of `names` whose value decodes; the names that failed.

        A publish response that holds one value asyncua cannot decode is dropped whole,
        with every other change in it, so such a tag is read (and retried), not monitored.
        """
        wanted = {n: nodes[n] for n in self._table.readers if n in names and n in nodes}
        now, undecodable = self._clock(), set()
        read = functools.partial(self._read_values, client, False)
        for name, dv in await self._reads.read(read, wanted):
            if isinstance(dv, Undecodable):
                self._accept(name, dv, now)
                undecodable.add(name)
        try:
            created = items.create(nodes, names - undecodable)
            return await bounded(created, self.conn.timeout_s, client) | undecodable
        except LINK_ERRORS as exc:
            raise SessionLost(describe_failure(exc)) from None

    @property
    def problems(self) -> dict[str, str]:
        """What is wrong with each tag that is not good now (for logs, checks, the API)."""
        return dict(self._table.problems)
