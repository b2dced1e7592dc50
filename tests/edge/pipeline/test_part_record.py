"""Which per-part SPC charts read their value and the part counter in different requests
(edge.pipeline.part_record): from the Modbus read plan, the OPC UA batched Read, or an
OPC UA subscription. The race itself, against the simulator: tests/integration/
test_part_record.py."""

from __future__ import annotations

from edge.config.loading import parse_config
from edge.pipeline.part_record import split_reads

HEAD = """
gateway: {id: gw}
site: s
area: a
line: l1
spc:
  charts:
    - {id: fill, machine: m1, tag: weight, kind: imr, subgroup: {per_part: true}}
    - {id: every, machine: m1, tag: weight, kind: imr}
machines:
  - id: m1
    state_rules: [{tag: code, map: {1: running}}]
    ideal_cycle_s: 2
"""


def modbus(
    tags: str, counters: str = "{total: {tag: total}}", extra: str = "", code: int = 0
) -> str:
    return HEAD + (
        f"    modbus: {{host: 127.0.0.1{extra}}}\n"
        f"    tags: {{code: {{address: {code}}}, {tags}}}\n"
        f"    counters: {counters}\n"
    )


def opcua(connection: str, tags: str) -> str:
    return HEAD + (
        f'    opcua: {{endpoint: "opc.tcp://127.0.0.1:4840"{connection}}}\n'
        f"    tags: {{{tags}}}\n"
        "    counters: {total: {tag: total}}\n"
    )


def details(text: str) -> list[tuple[str, str, str]]:
    return [(s.chart, s.machine, s.detail) for s in split_reads(parse_config(text, "t.yaml"))]


def test_modbus_counter_far_from_the_value_is_named_with_both_requests() -> None:
    text = modbus("total: {address: 4, type: uint32}, weight: {address: 136, type: float32}")
    # Only the per-part chart: a chart that takes every poll's reading has no race.
    [(chart, machine, detail)] = details(text)
    assert (chart, machine) == ("fill", "m1")
    assert detail.startswith(
        "SPC chart fill (per_part): tag weight (holding 136, read 136-137) and the part "
        "counter total (holding 4, read 0-5) are read in two requests"
    )
    assert detail.endswith("e.g. counters.total at 138 (the simulator's: docs/simulator.md)")


def test_modbus_addresses_as_the_config_writes_them_one_based() -> None:
    text = modbus(
        "total: {address: 5, type: uint32}, weight: {address: 137, type: float32}",
        extra=", addressing: 1",
        code=1,
    )
    [(_, _, detail)] = details(text)
    assert (
        "tag weight (holding 137, read 137-138) and the part counter total (holding 5, "
        "read 1-6)" in detail
    )


def test_modbus_counter_in_the_same_request_is_fine() -> None:
    # The part record: weight 136-137 and the counter 138-139 in one read.
    record = "total: {address: 138, type: uint32}, weight: {address: 136, type: float32}"
    assert details(modbus(record)) == []
    # Close enough to coalesce (the default max_gap), though not adjacent.
    near = "total: {address: 4, type: uint32}, weight: {address: 20, type: float32}"
    assert details(modbus(near)) == []
    # A request limit that splits them again.
    assert len(details(modbus(near, extra=", max_registers_per_read: 10"))) == 1


def test_modbus_good_and_reject_counters_both_count() -> None:
    tags = (
        "good: {address: 138, type: uint32}, reject: {address: 8, type: uint32}, "
        "weight: {address: 136, type: float32}"
    )
    [(_, _, detail)] = details(modbus(tags, "{good: {tag: good}, reject: {tag: reject}}"))
    assert "the part counter reject (holding 8, read 0-9)" in detail


def test_opcua_poll_apart_only_in_different_read_requests() -> None:
    tags = 'code: "ns=2;s=Code", total: "ns=2;s=Total", weight: "ns=2;s=Weight"'
    assert details(opcua(", mode: poll", tags)) == []  # one Read of all three
    [(_, _, detail)] = details(opcua(", mode: poll, max_nodes_per_read: 2", tags))
    assert detail.startswith(
        "SPC chart fill (per_part): tag weight and the part counter total are read in "
        "different Read requests (opcua.max_nodes_per_read: 2)"
    )


def test_opcua_subscription_delivers_each_node_on_its_own() -> None:
    tags = 'code: "ns=2;s=Code", total: "ns=2;s=Total", weight: "ns=2;s=Weight"'
    [(_, _, detail)] = details(opcua("", tags))
    assert detail.startswith(
        "SPC chart fill (per_part): tag weight and the part counter (total) come by "
        "subscription, each node's change on its own"
    )
    assert "opcua.mode: poll" in detail
