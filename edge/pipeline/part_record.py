"""Per-part SPC charts whose value and part counter come from different read requests.

A `per_part` chart takes a reading at a poll where the machine's part counter moved
(docs/SPC.md "How readings become points"). If the counter and the value are read in
two requests, a part finished between them gives that poll the next part's value, the
next poll reads it again and the earlier part's value is lost (about 1 part in 350 at
the demo's pace). A PLC keeps a "part record" (the counter and the part's measurements
in one block) for this: read in one request, both come from one scan. The gateway
cannot fix this by itself; at start it says so, once per chart, as an open issue of
the machine (kind `per_part_split_read`, logged at WARNING).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from connectors.modbus.plan import ReadRequest, plan_reads
from core.interfaces import IssueLog
from edge.config import ChartConfig, Config, MachineConfig

__all__ = ["SplitRead", "report_split_reads", "split_reads"]

KIND = "per_part_split_read"


@dataclass(frozen=True, slots=True)
class SplitRead:
    """One per-part chart whose tag and counter are read apart: `detail` says where and
    the fix."""

    chart: str
    machine: str
    detail: str

    @property
    def key(self) -> str:
        """The machine issue's key (one per chart)."""
        return f"spc/{self.chart}/split-read"


def split_reads(config: Config) -> list[SplitRead]:
    """Every per-part chart of `config` whose value and part counter are not read in the
    same request (Modbus: the read plan; OPC UA poll: the batched Read; OPC UA
    subscription: never the same)."""
    out: list[SplitRead] = []
    for chart in config.spc.charts:
        if not chart.subgroup.per_part or chart.source != "tag" or chart.tag is None:
            continue
        m = config.machine(chart.machine)
        detail = _detail(chart, chart.tag, m)
        if detail is not None:
            out.append(SplitRead(chart.id, m.id, detail))
    return out


def report_split_reads(config: Config, issues: Mapping[str, IssueLog], at: datetime) -> None:
    """Open an issue of the machine (logged at WARNING) for each chart `split_reads`
    finds; it stays open while the gateway runs with this config."""
    for split in split_reads(config):
        issues[split.machine].raise_(split.key, KIND, split.detail, at)


def counter_tags(m: MachineConfig) -> list[str]:
    """The tags whose movement counts a part: the total counter, else good and reject
    (the total is then their sum)."""
    c = m.counters
    if c is None:
        return []
    if c.total is not None:
        return [c.total.tag]
    return [x.tag for x in (c.good, c.reject) if x is not None]


def _detail(chart: ChartConfig, tag: str, m: MachineConfig) -> str | None:
    counters = counter_tags(m)
    if m.modbus is not None:
        return _modbus_detail(chart, tag, counters, m)
    if m.opcua is None or not counters:
        return None
    head = f"SPC chart {chart.id} (per_part)"
    if m.opcua.mode == "subscription":
        return (
            f"{head}: tag {tag} and the part counter ({', '.join(counters)}) come by "
            "subscription, each node's change on its own, so a reading may belong to "
            "the next part or be missed; read them together (opcua.mode: poll, one Read "
            "request), best from the PLC's part record (the counter next to the value)"
        )
    per_read = m.opcua.max_nodes_per_read
    names = list(m.opcua_tags)
    group = {n: i // per_read for i, n in enumerate(names)}  # as BatchedReads groups them
    apart = [c for c in counters if group[c] != group[tag]]
    if not apart:
        return None
    return (
        f"{head}: tag {tag} and the part counter {apart[0]} are read in different Read "
        f"requests (opcua.max_nodes_per_read: {per_read}), so a part finished between "
        "them gives the poll the next part's reading and loses its own; list them next "
        "to each other under tags or raise max_nodes_per_read, best read the counter "
        "from the PLC's part record next to the value"
    )


def _modbus_detail(
    chart: ChartConfig, tag: str, counters: list[str], m: MachineConfig
) -> str | None:
    assert m.modbus is not None
    plan = plan_reads(m.modbus_tags, m.modbus)
    where = {t.name: r for r in plan for t in r.tags}
    apart = [c for c in counters if where[c] is not where[tag]]
    if not apart:
        return None
    counter, base = apart[0], m.modbus.addressing
    return (
        f"SPC chart {chart.id} (per_part): tag {tag} ({_at(m, tag, where[tag], base)}) "
        f"and the part counter {counter} ({_at(m, counter, where[counter], base)}) are "
        "read in two requests, so a part finished between them gives the poll the next "
        "part's reading and loses its own; read the counter from the PLC's part record "
        "next to the value, e.g. counters.total at 138 (the simulator's: "
        "docs/simulator.md)"
    )


def _at(m: MachineConfig, tag: str, req: ReadRequest, base: int) -> str:
    """`holding 136, read 136-137`: the tag's address and its request's span, both as
    the config writes addresses (`addressing`)."""
    first = req.start + base
    return f"{req.table.value} {m.modbus_tags[tag].address}, read {first}-{first + req.count - 1}"
