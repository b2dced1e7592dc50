"""The monitored items of one machine's subscription, and the batches made from what
they report (`connectors.opcua.source` runs them in its subscription mode)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from asyncua import ua

from connectors.opcua.client import describe_status
from connectors.opcua.config import OpcUaConnection
from connectors.opcua.subscription import BatchingSubscription, DataChanges, monitored_item
from connectors.opcua.tags import TagTable
from connectors.opcua.values import status_problem
from core.types import SampleBatch

__all__ = ["MonitoredTags"]


class MonitoredTags:
    """One monitored item per tag of `table` on `sub`; client handle `first_handle` + i
    is tag i (machines that share a subscription each have a range of their own)."""

    def __init__(
        self,
        sub: BatchingSubscription,
        table: TagTable,
        conn: OpcUaConnection,
        clock: Callable[[], datetime],
        first_handle: int = 1,
    ) -> None:
        self.sub, self._table, self._conn, self._clock = sub, table, conn, clock
        self.handles = {first_handle + i: name for i, name in enumerate(table.readers)}

    async def create(self, nodes: dict[str, ua.NodeId], names: set[str]) -> set[str]:
        """Create monitored items for `names`; the names that failed (to retry later)."""
        requests = [
            monitored_item(
                h,
                nodes[n],
                sampling_interval_s=self._sampling_interval(),
                queue_size=self._conn.queue_size,
                deadband=self._table.tags[n].deadband or self._conn.deadband,
            )
            for h, n in self.handles.items()
            if n in names and n in nodes
        ]
        if not requests:
            return set(names)
        results = await self.sub.create_monitored_items(requests)
        failed = {n for n in names if n not in nodes}
        now = self._clock()
        for request, result in zip(requests, results, strict=True):
            name = self.handles[request.RequestedParameters.ClientHandle]
            if isinstance(result, ua.StatusCode):
                failed.add(name)
                self._table.mark_bad(name, _node_status(self._table.tags[name].node, result), now)
        return failed

    def apply(self, notice: DataChanges) -> tuple[list[SampleBatch], int]:
        """Batches for one publish response, and how many of its values were ours.

        A tag that changes twice in it closes a batch first, so that no intermediate
        state is lost (queue_size > 1)."""
        now = self._clock()
        batches: list[SampleBatch] = []
        seen: set[str] = set()
        handles, accept = self.handles, self._table.accept
        ours = 0
        for item in notice.items:
            name = handles.get(item.ClientHandle)
            if name is None:
                continue
            ours += 1
            if name in seen:
                batches.append(self._table.batch(now))
                seen.clear()
            seen.add(name)
            accept(name, item.Value, now)
        batches.append(self._table.batch(now))
        return batches, ours

    def _sampling_interval(self) -> float:
        s = self._conn.sampling_interval_s
        return self._conn.publishing_interval_s if s is None else s


def _node_status(node: str, status: ua.StatusCode) -> str:
    problem = status_problem(status)
    if problem.startswith("reads "):
        problem = f"cannot be monitored ({describe_status(status)})"
    return f"node {node} {problem}"
