"""One OPC UA session, and in subscription mode one subscription, per endpoint: shared
by every machine a gateway reads from that server with the same session settings.

Many machines are often served by one server (a line's SCADA, an aggregator, a farm
of simulators), and a session per machine costs the gateway a publish round trip and
a watchdog read per machine, and the server a session each (many PLCs allow only a
handful). The `Endpoint` owns the session: one task connects with backoff, reads the
namespace array, creates the subscription, and tells each member (`Up`, `Down`). The
members (`connectors.opcua.source`) do everything per machine on that session: resolve
and monitor or read their own tags, with client handles of their own, so each publish
response is split among them by handle. A member that finds the session broken drops
it (`Session.drop`); the endpoint then tells every member `Down` and rebuilds it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence

from asyncua import ua

from connectors.common.backoff import Backoff
from connectors.opcua.client import bounded, close_client, open_client
from connectors.opcua.config import OpcUaConnection
from connectors.opcua.errors import OpcUaError
from connectors.opcua.pki import Pki
from connectors.opcua.session import (
    LINK_ERRORS,
    Down,
    Failed,
    Member,
    MemberNotice,
    Session,
    SessionLost,
    Up,
    describe_failure,
)
from connectors.opcua.subscription import (
    BatchingSubscription,
    DataChanges,
    Notice,
    StatusChange,
    subscription_params,
)

__all__ = ["Endpoint", "OpcUaEndpoints", "session_key"]

log = logging.getLogger(__name__)

# Settings of a machine's own monitored items or reads: machines that differ only in
# these still share a session. Every other field (and any added later) separates them.
PER_MACHINE = (
    "sampling_interval_s", "queue_size", "deadband", "timestamp",
    "poll_interval_s", "max_nodes_per_read", "share_session",
)  # fmt: skip


def session_key(conn: OpcUaConnection) -> OpcUaConnection:
    """What machines must have in common to share a session: the connection without its
    per-machine fields (and without the publishing interval in poll mode)."""
    blank = PER_MACHINE + (("publishing_interval_s",) if conn.mode == "poll" else ())
    return conn.model_copy(update=dict.fromkeys(blank))


class Endpoint:
    """The session of one endpoint, shared by its members. Its task starts with the
    first member and stops (closing the session) when the last one leaves."""

    def __init__(self, conn: OpcUaConnection, pki: Pki, *, application_uri: str, name: str) -> None:
        self.conn, self.name = conn, name
        self._pki, self._app_uri = pki, application_uri
        self._backoff = Backoff(conn.backoff_initial_s, conn.backoff_max_s)
        self._members: list[Member] = []
        self._route: list[Member | None] = [None]  # by client handle; 0 is never one
        self._session: Session | None = None
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    @property
    def members(self) -> int:
        """How many machines use the endpoint now."""
        return len(self._members)

    def join(self, handles: int) -> Member:
        """A new member with `handles` client handles; starts the session's task."""
        if self._failure is not None:
            raise self._failure
        member = Member(len(self._route), handles)
        self._route.extend([member] * handles)
        self._members.append(member)
        if self._session is not None:
            member.queue.put_nowait(Up(self._session))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"opcua-session:{self.name}")
        return member

    async def leave(self, member: Member) -> None:
        """`member` is done; the last one out stops the task and closes the session."""
        if member not in self._members:
            return
        self._members.remove(member)
        for h in range(member.first_handle, member.first_handle + member.size):
            self._route[h] = None  # its items may still report until the next session
        if not self._members and self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.wait({task})  # not `await task`: our own cancel must propagate

    async def _run(self) -> None:
        try:
            while True:
                await self._cycle()
                await asyncio.sleep(self._backoff.next())
        except Exception as exc:
            # Nobody awaits this task: the members' streams raise it for the supervisor.
            log.exception("opcua session %s failed", self.name)
            self._failure = exc
            self._broadcast(Failed(exc))

    async def _cycle(self) -> None:
        """One connection: open, share until it is lost, close; members told each step."""
        try:
            client = await open_client(
                self.conn, self._pki, application_uri=self._app_uri, name=self.name
            )
        except OpcUaError as exc:
            self._broadcast(Down(str(exc), lost=False))
            return
        session = Session(client)
        try:
            await self._start(session)
            self._backoff.reset()
            self._session = session
            self._broadcast(Up(session))
            error = f"connection lost: {await session.lost}"
        except SessionLost as exc:
            error = f"connection lost: {exc}"
        finally:
            self._session = None
            await close_client(client)
        self._broadcast(Down(error, lost=True))

    async def _start(self, session: Session) -> None:
        client = session.client

        async def on_lost(exc: Exception) -> None:
            session.drop(describe_failure(exc))

        client.connection_lost_callback = on_lost
        try:
            array = await bounded(client.get_namespace_array(), self.conn.timeout_s, client)
            session.namespaces = list(array)
            if self.conn.mode == "subscription":
                params = subscription_params(
                    self.conn.publishing_interval_s, self.conn.session_timeout_s
                )
                deliver = functools.partial(self._deliver, session)
                session.sub = BatchingSubscription(client.uaclient.session, params, deliver)
                await bounded(session.sub.init(), self.conn.timeout_s, client)
        except LINK_ERRORS as exc:
            raise SessionLost(describe_failure(exc)) from None

    def _deliver(self, session: Session, notice: Notice) -> None:
        """One publish response to its members, split by client handle: each gets its
        own changes in the server's order (the notifications themselves, not copies)."""
        if isinstance(notice, StatusChange):
            if not notice.status.is_good():
                session.drop(describe_failure(notice))
            return
        members = self._members
        if len(members) == 1:  # nothing to split (one machine, or share_session off)
            members[0].queue.put_nowait(notice)
            return
        for member, items in _split(self._route, notice.items).items():
            member.queue.put_nowait(DataChanges(items))

    def _broadcast(self, notice: MemberNotice) -> None:
        for member in self._members:
            member.queue.put_nowait(notice)


def _split(
    route: list[Member | None], items: Sequence[ua.MonitoredItemNotification]
) -> dict[Member, list[ua.MonitoredItemNotification]]:
    parts: dict[Member, list[ua.MonitoredItemNotification]] = {}
    n = len(route)
    for item in items:
        h = item.ClientHandle
        member = route[h] if h < n else None
        if member is not None:
            part = parts.get(member)
            if part is None:
                parts[member] = [item]
            else:
                part.append(item)
    return parts


class OpcUaEndpoints:
    """The shared endpoints of one gateway run, by session settings. One per run, made
    by whoever builds the sources, never module-global: two gateways in one process (or
    a connection check beside a gateway) share nothing."""

    def __init__(self) -> None:
        self._endpoints: dict[OpcUaConnection, Endpoint] = {}

    def get(self, conn: OpcUaConnection, pki: Pki, *, application_uri: str, name: str) -> Endpoint:
        """The endpoint machines with `conn`'s session settings share (made if new)."""
        key = session_key(conn)
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            endpoint = Endpoint(conn, pki, application_uri=application_uri, name=name)
            self._endpoints[key] = endpoint
        return endpoint
