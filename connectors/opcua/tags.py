"""One machine's OPC UA tags: their latest samples, what is wrong with each, and the
batches made from them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from asyncua import ua

from connectors.opcua.config import OpcUaConnection, OpcUaTag
from connectors.opcua.errors import NodeIdError
from connectors.opcua.nodeids import NodeRef, parse_node_ref
from connectors.opcua.values import ValueReader
from core.types import Quality, Sample, SampleBatch

__all__ = ["TagTable"]

log = logging.getLogger("connectors.opcua.source")


class TagTable:
    """The current value of each tag of `machine_id`, kept across notifications.

    Subscriptions only report changes, but the normaliser needs every tag in every
    batch: this table is what turns the one into the other.
    """

    def __init__(
        self,
        machine_id: str,
        conn: OpcUaConnection,
        tags: dict[str, OpcUaTag],
        numeric: Iterable[str] = (),
    ) -> None:
        self.machine_id, self.endpoint, self.tags = machine_id, conn.endpoint, tags
        need_number = set(numeric)
        self.readers = {
            n: ValueReader(n, t, conn.timestamp, n in need_number) for n, t in tags.items()
        }
        self.refs: dict[str, NodeRef] = {}
        self.problems: dict[str, str] = {}  # tag -> what is wrong with it now
        for name, tag in tags.items():
            try:
                self.refs[name] = parse_node_ref(tag.node)
            except NodeIdError as exc:
                self.problem(name, str(exc))
        self._values: dict[str, Sample] = {}
        self._last_ts: datetime | None = None
        self._changed_at: datetime | None = None  # latest change since the last batch
        self._stamps: dict[datetime, datetime] = {}  # recent sample times (see `accept`)

    def resolve(self, namespaces: list[str]) -> dict[str, ua.NodeId]:
        """NodeIds of this server run for every resolvable tag; the others noted."""
        nodes: dict[str, ua.NodeId] = {}
        for name, ref in self.refs.items():
            try:
                nodes[name] = ref.resolve(namespaces)
            except NodeIdError as exc:
                self.problem(name, str(exc))
        return nodes

    def accept(self, name: str, dv: ua.DataValue, now: datetime) -> None:
        """Take a DataValue of tag `name` (from a read or a notification)."""
        reader = self.readers[name]
        ts = reader.time(dv, now)
        # The values of one PLC scan carry one timestamp, but asyncua decodes a datetime
        # per value: equal times share one object, so that the batch's own time is the
        # very object of its samples' and the payloads and the store format it once.
        stamps = self._stamps
        ts = stamps.setdefault(ts, ts)
        if len(stamps) > 64:
            stamps.clear()
            stamps[ts] = ts
        sample, problem = reader.sample_at(dv, ts)
        before = self._values.get(name)
        if (
            before is None
            or before.quality is not sample.quality
            or not (before.value is sample.value or before.value == sample.value)
        ) and (self._changed_at is None or ts > self._changed_at):
            self._changed_at = ts
        self._values[name] = sample
        if problem is not None:
            self.problem(name, f"node {self.tags[name].node} {problem}")
        elif name in self.problems:
            self.problem(name, None)

    def mark_bad(self, name: str, problem: str, now: datetime) -> None:
        """Tag `name` cannot be read at all (e.g. its monitored item was refused)."""
        self._values[name] = Sample(name, None, Quality.BAD, now)
        self.problem(name, problem)

    def forget(self) -> None:
        """The session is gone: no value is known any more."""
        self._values.clear()

    def batch(self, now: datetime, error: str | None = None) -> SampleBatch:
        """The current value of every tag (bad where unknown).

        Dated by the latest change it carries, or `now` when nothing changed (a
        heartbeat, so time-based rules move on), and never earlier than the previous
        batch: the normaliser must not see time run backwards.
        """
        samples = tuple(
            self._values.get(n) or Sample(n, None, Quality.BAD, now) for n in self.readers
        )
        ts = now if error is not None or self._changed_at is None else self._changed_at
        self._changed_at = None
        if self._last_ts is not None and ts < self._last_ts:
            ts = self._last_ts
        self._last_ts = ts
        return SampleBatch(self.machine_id, ts, samples, error)

    def problem(self, name: str, problem: str | None) -> None:
        """Note what is wrong with a tag (None: nothing); logged when it starts or changes,
        and once when it ends."""
        before = self.problems.get(name)
        if problem == before:
            return
        where = f"opcua {self.machine_id} ({self.endpoint}): tag {name}"
        if problem is None:
            del self.problems[name]
            log.info("%s: good again", where)
        else:
            self.problems[name] = problem
            log.error("%s: %s", where, problem)
