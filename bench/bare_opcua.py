"""The floor for Python over OPC UA: a bare asyncua client that only receives values.

    .venv/bin/python -m bench.bare_opcua LOAD.json --stats OUT.json [--mode read]
                                          [--delivery batch|iterator|handler]

Machines are grouped by `opcua_url`: one `Client` per server. Node ids are the string
ids `machine.nodes` in the namespace whose URI is `machine.opcua_ns` (its index looked up
with `get_namespace_index`, never assumed).

``--mode subscribe`` (default): one subscription per server, publishing interval =
`load.interval_s`, monitoring every node of that server's machines (sampling interval =
the publishing interval, server queue size 1). "values" counts data-change
notifications. How asyncua hands them over (``--delivery``):

- ``batch`` (default, the cheapest correct one): a `Subscription` subclass whose
  `publish_callback` counts the monitored items of each publish response. Nothing is
  lost and nothing is created per value: no event object, no queue entry, no task.
  It is what the gateway's own connector does (connectors/opcua/subscription.py), so
  the floor is not handicapped by a cost the gateway avoids.
- ``iterator``: no handler, ``async for`` over the subscription with an *unbounded*
  queue (``queue_maxsize=0``). asyncua's default (1000, DROP_OLDEST) drops silently
  when the consumer lags (LIBRARY-NOTES: 21-68 % lost at 10k changes/s); unbounded
  loses nothing, at the cost of one event object and one queue put/get per value.
- ``handler``: a handler class counting `datachange_notification` calls. asyncua then
  starts one task per notification: correct, but the costliest per value.

``--mode read``: every interval (fixed rate, as bench.bare_modbus) one batched
`client.read_values(nodes)` per server; "values" counts the values read, "requests"
the reads.

Stats file as bench.bare_modbus: ``{"requests", "values", "errors", "missed",
"elapsed_s", "lateness_ms"}``; in subscribe mode "requests" counts publish responses
carrying data (batch delivery only; 0 otherwise) and lateness is not measured (the
server sets the pace). Subscriptions are not recreated after a reconnect (asyncua does
not either): a lost server shows as values stopping and an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from asyncua import Client, Node, ua
from asyncua.common.subscription import Subscription

from bench.bare_modbus import Stats, first_deadlines, paced, run_until_stopped
from bench.endpoints import Load, Machine

__all__ = ["main"]

TIMEOUT_S = 4.0


class CountingSubscription(Subscription):
    """Counts the data changes of each publish response; creates nothing per value."""

    def __init__(self, session: Any, params: ua.CreateSubscriptionParameters, stats: Stats):
        super().__init__(session, params, _NoHandler())  # type: ignore[arg-type]
        self.stats = stats

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        data = publish_result.NotificationMessage.NotificationData
        if not data:
            return  # keep-alive
        for notice in data:
            if isinstance(notice, ua.DataChangeNotification):
                self.stats.values += len(notice.MonitoredItems)
            elif isinstance(notice, ua.StatusChangeNotification):
                self.stats.errors += 1
        self.stats.requests += 1


class _NoHandler:
    """Selects asyncua's callback path (no internal queue); never dispatched to."""


class CountingHandler:
    """The classic asyncua handler: one call (in its own task) per notification."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def datachange_notification(self, node: Node, val: Any, data: Any) -> None:
        self.stats.values += 1

    def status_change_notification(self, status: Any) -> None:
        self.stats.errors += 1


async def _nodes(client: Client, machines: list[Machine]) -> list[Node]:
    index: dict[str, int] = {}
    nodes: list[Node] = []
    for m in machines:
        if m.opcua_ns not in index:
            index[m.opcua_ns] = await client.get_namespace_index(m.opcua_ns)
        ns = index[m.opcua_ns]
        nodes += [client.get_node(ua.NodeId(ua.String(ident), ua.Int16(ns))) for ident in m.nodes]
    return nodes


def _params(interval_s: float) -> ua.CreateSubscriptionParameters:
    params = ua.CreateSubscriptionParameters()
    params.RequestedPublishingInterval = interval_s * 1000
    params.RequestedMaxKeepAliveCount = max(1, int(5.0 / interval_s))  # ~5 s
    params.RequestedLifetimeCount = 3 * params.RequestedMaxKeepAliveCount + 30
    params.MaxNotificationsPerPublish = 0  # no limit
    params.PublishingEnabled = True
    params.Priority = 0
    return params


async def _subscribe(
    client: Client, nodes: list[Node], interval_s: float, delivery: str, stats: Stats
) -> Subscription:
    sampling_ms = ua.Double(interval_s * 1000)
    sub: Subscription
    if delivery == "batch":
        sub = CountingSubscription(client.uaclient.session, _params(interval_s), stats)
        await sub.init()
    elif delivery == "iterator":
        sub = await client.create_subscription(interval_s * 1000, None, queue_maxsize=0)
    else:
        sub = await client.create_subscription(interval_s * 1000, CountingHandler(stats))
    results = await sub.subscribe_data_change(nodes, queuesize=1, sampling_interval=sampling_ms)
    bad = [r for r in results if isinstance(r, ua.StatusCode)]
    if bad:
        raise RuntimeError(f"{len(bad)} of {len(nodes)} nodes not monitored: {bad[0]}")
    return sub


async def _drain(sub: Subscription, stats: Stats, stop: asyncio.Event) -> None:
    async for _ in sub:
        stats.values += 1
        if stop.is_set():
            return


def _values_of(client: Client, nodes: list[Node]) -> Callable[[], Awaitable[int]]:
    async def read() -> int:
        return len(await client.read_values(nodes))

    return read


async def run(load: Load, out: Path, mode: str, delivery: str) -> Stats:
    """Receive or read `load` until SIGTERM/SIGINT; the final stats."""
    if load.protocol != "opcua":
        raise ValueError(f"an OPC UA load is needed (got {load.protocol!r})")
    servers: dict[str, list[Machine]] = {}
    for m in load.machines:
        servers.setdefault(m.opcua_url, []).append(m)
    stats = Stats()
    clients = [Client(url, timeout=TIMEOUT_S) for url in servers]

    async def lost(exc: Exception) -> None:
        stats.errors += 1

    for c in clients:
        c.connection_lost_callback = lost
    await asyncio.gather(*(c.connect() for c in clients))
    node_lists = await asyncio.gather(
        *(_nodes(c, ms) for c, ms in zip(clients, servers.values(), strict=True))
    )
    subs: list[Subscription] = []
    if mode == "subscribe":
        subs = list(
            await asyncio.gather(
                *(
                    _subscribe(c, ns, load.interval_s, delivery, stats)
                    for c, ns in zip(clients, node_lists, strict=True)
                )
            )
        )
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.1
    stats.started = loop.time() if mode == "subscribe" else t0
    n = len(clients)

    def start(stop: asyncio.Event) -> list[Awaitable[None]]:
        tasks: list[Awaitable[None]] = []
        if mode == "read":
            firsts = first_deadlines(t0, load.interval_s, n, n)
            tasks += [
                paced(_values_of(c, ns), first, load.interval_s, stats, stop)
                for first, c, ns in zip(firsts, clients, node_lists, strict=True)
            ]
        elif delivery == "iterator":
            tasks += [_drain(s, stats, stop) for s in subs]
        return tasks

    async def close() -> None:
        for c in clients:
            with contextlib.suppress(Exception):
                await c.disconnect()

    await run_until_stopped(stats, out, start, close)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bare_opcua",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("load", type=Path, help="Load JSON (bench.endpoints.Load)")
    parser.add_argument("--stats", type=Path, required=True, help="stats JSON to write")
    parser.add_argument("--mode", choices=["subscribe", "read"], default="subscribe")
    parser.add_argument("--delivery", choices=["batch", "iterator", "handler"], default="batch")
    args = parser.parse_args(argv)
    logging.getLogger("asyncua").setLevel(logging.CRITICAL)  # the stats count errors
    stats = asyncio.run(run(Load.load(args.load), args.stats, args.mode, args.delivery))
    print(json.dumps(stats.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
