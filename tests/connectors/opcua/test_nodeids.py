"""Node id parsing and per-connection namespace resolution."""

from __future__ import annotations

import pytest
from asyncua import ua

from connectors.opcua.errors import NodeIdError
from connectors.opcua.nodeids import parse_node_ref, to_nsu

NAMESPACES = ["http://opcfoundation.org/UA/", "urn:a", "urn:oee-edge:simulator"]
SHIFTED = ["http://opcfoundation.org/UA/", "urn:a", "urn:b", "urn:c", "urn:oee-edge:simulator"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ns=2;s=m1.State", ua.NodeId("m1.State", 2)),
        ("i=2256", ua.NodeId(2256, 0)),
        ("ns=3;i=5001", ua.NodeId(5001, 3)),
        (
            "ns=2;g=6f1c0c1e-6e2a-4c55-9b0e-1d2c3b4a5f60",
            ua.NodeId(ua.Guid("6f1c0c1e-6e2a-4c55-9b0e-1d2c3b4a5f60"), 2, ua.NodeIdType.Guid),
        ),
        ("ns=2;b=T0VFLUVER0U=", ua.NodeId(b"OEE-EDGE", 2, ua.NodeIdType.ByteString)),
        ("nsu=urn:oee-edge:simulator;s=m1.State", ua.NodeId("m1.State", 2)),
        ("nsu=urn:oee-edge:simulator;i=5001", ua.NodeId(5001, 2)),
    ],
)
def test_every_form_resolves(text: str, expected: ua.NodeId) -> None:
    assert parse_node_ref(text).resolve(NAMESPACES) == expected


def test_nsu_follows_the_namespace_to_its_new_index() -> None:
    ref = parse_node_ref("nsu=urn:oee-edge:simulator;s=m1.Counters.Total")
    assert ref.resolve(NAMESPACES) == ua.NodeId("m1.Counters.Total", 2)
    assert ref.resolve(SHIFTED) == ua.NodeId("m1.Counters.Total", 4)


def test_ns_index_is_taken_as_written() -> None:
    assert parse_node_ref("ns=2;s=x").resolve(SHIFTED) == ua.NodeId("x", 2)


def test_unknown_namespace_uri_names_what_the_server_has() -> None:
    ref = parse_node_ref("nsu=urn:nope;s=x")
    with pytest.raises(NodeIdError) as err:
        ref.resolve(NAMESPACES[:2])
    assert str(err.value) == (
        "nsu=urn:nope;s=x: the server has no namespace 'urn:nope' "
        "(it has 0: http://opcfoundation.org/UA/, 1: urn:a)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ns=x;s=a", "ns=x;s=a: namespace index 'x' is not a number"),
        ("ns=2;g=zz", "ns=2;g=zz: not a valid node id"),
        ("ns=2;i=abc", "ns=2;i=abc: not a valid node id"),
    ],
)
def test_malformed_ids_fail_when_parsed(text: str, message: str) -> None:
    with pytest.raises(NodeIdError) as err:
        parse_node_ref(text)
    assert str(err.value).startswith(message)


def test_to_nsu_is_portable_and_round_trips() -> None:
    node = ua.NodeId("m1.State", 4)
    text = to_nsu(node, SHIFTED)
    assert text == "nsu=urn:oee-edge:simulator;s=m1.State"
    assert parse_node_ref(text).resolve(NAMESPACES) == ua.NodeId("m1.State", 2)
    assert to_nsu(ua.NodeId(85, 0), SHIFTED) == "i=85"
