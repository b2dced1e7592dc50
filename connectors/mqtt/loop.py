"""`LoopDriver`: runs a paho client on the asyncio event loop, without paho's thread.

paho's threaded loop (`loop_start`) cost 18 % of the gateway's CPU at 500 machines: each
`publish` woke its thread through a socket pair, the thread selected, wrote, read the
PUBACKs and called back, which woke the event loop again, with GIL hand-offs on top.
Here paho's external-loop API is driven from the event loop instead:

- reading: the socket is registered with `loop.add_reader` (paho's `on_socket_open`)
  and `loop_read` runs when it is readable, so every paho callback (`on_connect`,
  `on_publish`, `on_disconnect`) runs on the loop's thread;
- writing: paho asks for a writer (`on_socket_register_write`) whenever it queued a
  packet. The driver then writes once, soon (`call_soon`), everything queued meanwhile:
  a burst of publishes costs one callback and no selector change. Only what the socket
  does not take at once waits for `loop.add_writer`;
- one `send` per flush: paho writes each queued packet with its own `send` (one system
  call per message). The driver takes paho's `_sock_send`: at the first packet of a
  write it joins the bytes of every packet queued behind it (up to `GATHER_BYTES`) and
  sends them at once through paho's own `_sock_send` (so its error handling, TLS's
  want-read/want-write included, is paho's); then it hands paho, packet by packet, the
  byte counts that send took, and paho's `_packet_write` does its bookkeeping as ever
  (positions, partial packets, QoS 0 `on_publish`, DISCONNECT). A send that took less
  than offered leaves the rest queued in paho, as a short write does (the next packet
  of that write is told "would block" without another system call); an error is raised
  to paho for the packet it was writing, before any byte was counted, as it would have
  been. For TLS a retry after want-write offers the same bytes first (paho's queue keeps
  its order and only grows at the end), as OpenSSL asks;
- `loop_misc` once a second, in the task `{name}-keepalive`: pings after `keepalive_s`
  of silence, gives up a connection whose ping (or CONNACK) has not come back within
  `keepalive_s`;
- connecting: paho's `reconnect()` blocks (TCP connect, TLS handshake), so it runs in a
  worker thread; the task `{name}-connect` connects while the socket is closed, waiting
  a delay of the jittered `Backoff` before every attempt but the first. paho's own
  reconnect logic (in `loop_forever`) is not used.

Callbacks reach the driver from the worker thread only during a connect (`on_socket_open`,
the CONNECT packet's write request): those are handed to the loop with
`call_soon_threadsafe`; everything else runs on the loop's thread directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

from connectors.common.backoff import Backoff
from connectors.mqtt.client import drop_connection

__all__ = ["GATHER_BYTES", "LoopDriver"]

log = logging.getLogger(__name__)

GATHER_BYTES = 64 * 1024
"""At most this much (plus one packet) per `send`: a backlog is written in sends of this
size rather than joined whole, when the socket takes only part of it anyway."""
_DISCONNECT = 0xE0


class LoopDriver:
    """Drives `client` (its callbacks are the caller's, but for the socket hooks, which
    the driver takes) on the running event loop, connecting to `host:port`.

    `start()` in the loop; `on_failure(why)` is called on the loop whenever an attempt
    to connect fails before the broker answered (the broker's own refusal comes in
    paho's `on_connect`). `connecting` is True while an attempt runs in its thread.
    `stop_reconnecting()`, then `disconnect(timeout_s)` on close.
    """

    def __init__(
        self,
        client: paho.Client,
        host: str,
        port: int,
        keepalive_s: int,
        backoff: Backoff,
        on_failure: Callable[[str], None],
        *,
        name: str,
    ) -> None:
        self._client = client
        self._addr = (host, port, keepalive_s)
        self._backoff = backoff
        self._on_failure = on_failure
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tid = 0  # the loop's thread
        self._fd = -1  # the socket registered for reading
        self._writer = False  # the socket is registered for writing too
        self._flush_due = False
        self._stopping = False
        self._opened_fd = -1  # a socket opened in a connect's thread, to register
        self._wake = asyncio.Event()  # the socket closed, or stop
        self._stop = asyncio.Event()
        self._gone = asyncio.Event()  # no socket registered
        self._connecting = False
        self._tasks: list[asyncio.Task[None]] = []
        # paho calls on_socket_open with the new socket; whoever set it before (the
        # client's TCP_NODELAY) still gets it.
        self._opened_before = client.on_socket_open
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._write_requested
        client.on_socket_unregister_write = self._write_done
        # One send per write of paho's queue (see the module's doc).
        self._paho_send: Callable[[bytes | bytearray], int] = client._sock_send
        self._credit = 0  # bytes sent for packets paho has not counted yet
        self._short = False  # a send of this write took less than offered
        client._sock_send = self._send  # type: ignore[method-assign]

    @property
    def connecting(self) -> bool:
        """True while an attempt to connect runs in its worker thread."""
        return self._connecting

    def start(self) -> None:
        """Start connecting in the background (a broker down at start is an outage like
        any other) and the keepalive task."""
        self._loop = asyncio.get_running_loop()
        self._tid = threading.get_ident()
        host, port, keepalive = self._addr
        self._client.connect_async(host, port, keepalive)  # only sets the address
        self._tasks = [
            asyncio.create_task(self._connect_loop(), name=f"{self._name}-connect"),
            asyncio.create_task(self._misc_loop(), name=f"{self._name}-keepalive"),
        ]

    async def stop_reconnecting(self) -> None:
        """No new connection from now on; waits for an attempt in progress to end (at
        most paho's connect timeout, as joining paho's thread did)."""
        self._stopping = True
        self._stop.set()
        self._wake.set()
        if self._tasks:
            await asyncio.gather(self._tasks[0], return_exceptions=True)

    async def disconnect(self, timeout_s: float) -> None:
        """Send DISCONNECT and close the socket (closed under paho if the broker does not
        take it within `timeout_s`); end the tasks. Call after `stop_reconnecting()`."""
        client = self._client
        client.disconnect()
        self._flush()  # now, not on the next round: paho closes the socket once written
        if client.socket() is not None:  # the broker does not take it right now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), timeout_s)
        if client.socket() is not None:
            # Shut down under paho: its reads take what is buffered, then see the end
            # and close the socket (unregistering it through `_closed`).
            drop_connection(client)
            for _ in range(10_000):
                if client.socket() is None:
                    break
                self._read()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ the tasks

    async def _connect_loop(self) -> None:
        first = True
        while not self._stopping:
            if not first:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._backoff.next())
                if self._stopping:
                    break
            first = False
            try:
                await self._connect_once()
            except Exception:  # a bug of ours must not end the reconnecting
                log.exception("MQTT %s: connection attempt failed", self._name)
                continue
            while self._fd != -1 and not self._stopping:  # until the socket is closed
                await self._wake.wait()
                self._wake.clear()

    async def _connect_once(self) -> None:
        client = self._client
        self._connecting = True
        try:
            await asyncio.to_thread(client.reconnect)
        except Exception as exc:  # refused, unreachable, TLS: try again later
            self._flush_due = False
            log.debug("MQTT %s: %s:%d: %s", self._name, *self._addr[:2], exc)
            self._on_failure("cannot connect")
            return
        finally:
            self._connecting = False
            fd, self._opened_fd = self._opened_fd, -1
        # What paho asked for in the thread: read the socket, write the CONNECT.
        if fd != -1 and client.socket() is not None:
            self._watch(fd)
        if self._flush_due:
            self._flush()

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self._connecting:  # a connect in its thread owns the client
                continue
            try:
                self._client.loop_misc()
            except Exception:  # raised by a callback: the next round still pings
                log.exception("MQTT %s: keepalive round failed", self._name)

    # ------------------------------------------------------------------ paho's socket hooks

    def _on_thread(self) -> bool:
        return threading.get_ident() == self._tid

    def _opened(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._opened_before is not None:
            self._opened_before(client, userdata, sock)
        if self._on_thread():  # paho reconnecting from a read (an MQTT 3.1 downgrade)
            self._watch(sock.fileno())
        else:  # in `_connect_loop`'s thread: registered once that returns
            self._opened_fd = sock.fileno()

    def _watch(self, fd: int) -> None:
        assert self._loop is not None
        self._fd = fd
        self._gone.clear()
        self._loop.add_reader(fd, self._read)

    def _closed(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if self._on_thread():
            self._unwatch(sock.fileno())
        elif self._loop is not None:  # paho closing a stale socket in a connect's thread
            with contextlib.suppress(RuntimeError):  # the loop is closed
                self._loop.call_soon_threadsafe(self._unwatch, sock.fileno())

    def _unwatch(self, fd: int) -> None:
        if fd != self._fd or self._loop is None:
            return
        self._loop.remove_reader(fd)
        if self._writer:
            self._loop.remove_writer(fd)
            self._writer = False
        self._fd = -1
        self._gone.set()
        self._wake.set()

    def _write_requested(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        # Not `add_writer` at once: that is two selector changes and a loop round per
        # request. paho asks once until all is written, so a burst of publishes (the
        # delivery's window) is written by one flush, at the end of this loop round.
        if self._flush_due:
            return
        self._flush_due = True
        if self._on_thread():
            assert self._loop is not None
            self._loop.call_soon(self._flush)
        # else: the CONNECT, in `_connect_loop`'s thread, which flushes once that returns

    def _flush(self) -> None:
        self._flush_due = False
        client = self._client
        if client.socket() is None:
            return
        self._write()
        if client.want_write() and not self._writer and self._fd != -1:
            # The socket took only part: write the rest when it can take more.
            assert self._loop is not None
            self._writer = True
            self._loop.add_writer(self._fd, self._write)

    def _write_done(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        """paho wrote all it had (or closes the socket): no writer needed."""
        if self._writer and self._loop is not None:
            self._loop.remove_writer(self._fd)
            self._writer = False

    # ------------------------------------------------------------------ one send per write

    def _send(self, buf: bytes | bytearray) -> int:
        """paho's `_sock_send`, called by its `_packet_write` for each packet in turn
        with what is left of it (the packet already taken off paho's queue)."""
        if self._credit:  # already sent with a packet before it
            n = min(len(buf), self._credit)
            self._credit -= n
            return n
        if self._short:  # the socket is full: what a second send would say
            raise BlockingIOError
        queue = self._client._out_packet
        if not queue or len(buf) >= GATHER_BYTES:
            sent = self._paho_send(buf)
            self._short = sent < len(buf)
            return sent
        parts = [buf]
        size = len(buf)
        for packet in queue:
            pos = packet["pos"]
            data = packet["packet"]
            parts.append(data[pos:] if pos else data)
            size += len(data) - pos
            if size >= GATHER_BYTES or packet["command"] & 0xF0 == _DISCONNECT:
                break
        data = b"".join(parts)
        sent = self._paho_send(data)  # raises as paho's own send would
        self._short = sent < len(data)
        n = min(len(buf), sent)
        self._credit = sent - n
        return n

    def _write(self) -> None:
        try:
            self._client.loop_write()
        finally:
            self._settle()

    def _read(self) -> None:
        try:
            self._client.loop_read()  # a CONNACK writes what waited for it
        finally:
            self._settle()

    def _settle(self) -> None:
        """paho counted every byte sent, unless its write ended early: a DISCONNECT
        written (the socket is closed: what followed it is moot) or a callback that
        raised in the middle. In the latter the bytes on the wire are ahead of paho's
        queue, so the connection cannot go on: drop it, paho sends again on the next."""
        self._short = False
        if not self._credit:
            return
        self._credit = 0
        if self._client.socket() is not None:
            log.error("MQTT %s: a write ended before paho counted what was sent; "
                      "dropping the connection", self._name)  # fmt: skip
            drop_connection(self._client)
