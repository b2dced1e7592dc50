"""What a machine sees of a shared OPC UA session (`connectors.opcua.endpoint`): the
session itself, and the notices about it that reach each member, in order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from asyncua import Client, ua

from connectors.common.aio import within
from connectors.opcua.client import describe_status
from connectors.opcua.subscription import BatchingSubscription, DataChanges, StatusChange

__all__ = [
    "LINK_ERRORS",
    "Down",
    "Ended",
    "Failed",
    "Member",
    "MemberNotice",
    "Session",
    "SessionLost",
    "Up",
    "describe_failure",
]

# What asyncua raises when a session, its transport or a request is gone.
LINK_ERRORS = (OSError, TimeoutError, ua.UaError, ConnectionError)


class SessionLost(Exception):
    """The session or its transport is gone; rebuild everything."""


class Session:
    """One live session: the client the members read through, the server run's
    namespace array, and the subscription (None in poll mode)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.namespaces: list[str] = []
        self.sub: BatchingSubscription | None = None
        self.lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def drop(self, reason: str) -> None:
        """The session is broken (the first reason counts): the endpoint rebuilds it."""
        if not self.lost.done():
            self.lost.set_result(reason)


@dataclass(frozen=True, slots=True)
class Up:
    """A session is open: resolve, then monitor or read on it."""

    session: Session


@dataclass(frozen=True, slots=True)
class Down:
    """No session: a connect failed (`lost` False) or the session ended (True)."""

    error: str
    lost: bool


@dataclass(frozen=True, slots=True)
class Failed:
    """The endpoint's task died of an unexpected error: the member raises it."""

    exc: BaseException


MemberNotice = Up | Down | Failed | DataChanges


class Ended(Exception):
    """The session went down (the endpoint said so) while the member used it."""

    def __init__(self, down: Down) -> None:
        super().__init__(down.error)
        self.down = down


class Member:
    """A machine's place on an endpoint: its notices, in order, and its client handles
    `first_handle` .. `first_handle + size - 1` (unique across the endpoint)."""

    def __init__(self, first_handle: int, size: int) -> None:
        self.first_handle, self.size = first_handle, size
        self.queue: asyncio.Queue[MemberNotice] = asyncio.Queue()

    async def next(self, timeout_s: float | None = None) -> MemberNotice | None:
        """The next notice (None: none within `timeout_s`); raises what killed the
        endpoint's task, so that the gateway's supervision sees it rather than a hang."""
        if timeout_s is None:
            notice = await self.queue.get()
        else:
            try:
                notice = await within(self.queue.get(), timeout_s)
            except TimeoutError:
                return None
        if isinstance(notice, Failed):
            raise notice.exc
        return notice

    async def wait(self, timeout_s: float) -> DataChanges | None:
        """Within a session: its next data changes (None: none in time); `Ended` when
        the session is gone."""
        notice = await self.next(timeout_s)
        if isinstance(notice, Down):
            raise Ended(notice)
        return notice if isinstance(notice, DataChanges) else None

    async def until_down(self) -> Down:
        """The end of a session this member found broken (it has dropped it)."""
        while not isinstance(notice := await self.next(), Down):
            pass  # changes still queued from the session that is going
        return notice


def describe_failure(exc: object) -> str:
    """What broke a session, in a line."""
    if isinstance(exc, StatusChange):
        return f"the server ended the subscription ({describe_status(exc.status)})"
    if isinstance(exc, ua.UaStatusCodeError):
        return describe_status(exc.code)
    if isinstance(exc, Exception):
        return str(exc) or type(exc).__name__
    return str(exc)
