"""Interop with node-opcua (npm), an OPC UA stack no one here wrote.

node-opcua's client reads our simulator (the node-tree contract in DESIGN terms: node ids,
data types, status codes, exact values), and reads node-opcua's own server, which checks the
peer that the connector's interop tests rely on independently of our code.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from tests.fixtures.node_opcua import (
    DATA_TYPES,
    FINAL_VALUES,
    NAMESPACE_INDEX,
    NAMESPACE_URI,
    NODE_IDS,
    NodeClientError,
    run_node_client,
)

SIM_NS = "urn:oee-edge:simulator"
# The bundled test scenario is 180 simulated seconds: 3 s of wall time at its time scale 60.
SCRIPT_WALL_S = 3.0


def sim(node: str) -> str:
    """An expanded node id in the simulator's namespace."""
    return f"nsu={SIM_NS};{node}"


# Final values of the bundled test scenario (simulators/scenarios/test.yaml).
SIM_FINAL: dict[str, tuple[Any, str]] = {
    "s=m1.State": (5, "UInt16"),
    "s=m1.Reason": (90, "UInt16"),
    "s=m1.Running": (False, "Boolean"),
    "s=m1.Fault": (False, "Boolean"),
    "s=m1.Product": (102, "UInt16"),
    "s=m1.Counters.Total": (50, "UInt32"),
    "s=m1.Counters.Good": (40, "UInt32"),
    "s=m1.Counters.Reject": (10, "UInt32"),
    "s=m1.Counters.Total16": (50, "UInt16"),
    "s=m1.Counters.Reject16": (10, "UInt16"),
    "s=m1.Speed": (0.0, "Double"),
    "s=m2.Counters.Total": (65560, "UInt32"),
    "s=m2.Counters.Total16": (24, "UInt16"),
    "s=m2.Counters.Reject16": (4, "UInt16"),
    "s=m3.State": (3, "UInt16"),
    "s=m3.Reason": (44, "UInt16"),
    "s=m3.Counters.Total": (14, "UInt32"),
    "s=m3.Counters.Reject": (4294967290, "UInt32"),
}

# Fixed Diagnostics nodes: (value, StatusCode name, data type, array type).
DIAGNOSTICS: dict[str, tuple[Any, str, str, str]] = {
    "i=5001": (42, "Good", "UInt32", "Scalar"),
    "g=6f1c0c1e-6e2a-4c55-9b0e-1d2c3b4a5f60": (43, "Good", "UInt32", "Scalar"),
    "b=T0VFLUVER0U=": (44, "Good", "UInt32", "Scalar"),
    "s=Diagnostics.Array": ([1.5, 2.5, 3.5], "Good", "Double", "Array"),
    "s=Diagnostics.Uncertain": (7.0, "UncertainLastUsableValue", "Double", "Scalar"),
    "s=Diagnostics.Bad": (None, "BadSensorFailure", "Null", "Scalar"),
    "s=Diagnostics.Text": ("OEE-SIM", "Good", "String", "Scalar"),
}


def picked(values: dict[str, Any], *keys: str) -> dict[str, tuple[Any, ...]]:
    """`values` of a client result reduced to `keys`, for exact comparison."""
    return {node: tuple(v[k] for k in keys) for node, v in values.items()}


def test_node_opcua_reads_simulator_final_values(opcua_simulator_factory: Any) -> None:
    sim_proc = opcua_simulator_factory("test")
    time.sleep(SCRIPT_WALL_S + 0.5)  # the script has ended: the values below are final

    reads = [sim(n) for n in SIM_FINAL] + [sim(n) for n in DIAGNOSTICS] + ["i=2256"]
    result = run_node_client(sim_proc.url, reads, browse=sim("s=Machines"))

    values = result["values"]
    expected = {sim(n): (v, "Good", t) for n, (v, t) in SIM_FINAL.items()}
    assert picked({n: values[n] for n in expected}, "value", "status", "dataType") == expected
    diag = {sim(n): d for n, d in DIAGNOSTICS.items()}
    got = picked({n: values[n] for n in diag}, "value", "status", "dataType", "arrayType")
    assert got == diag
    assert all(values[sim(n)]["sourceTimestamp"] for n in SIM_FINAL)
    # A structure reads as an ExtensionObject: it is there, the connector refuses it.
    assert values["i=2256"]["dataType"] == "ExtensionObject"
    assert values["i=2256"]["value"]["state"] == "Running"
    sim_index = result["namespaces"].index(SIM_NS)
    assert [(b["name"], b["nodeClass"]) for b in result["browse"]] == [
        ("m1", "Object"),
        ("m2", "Object"),
        ("m3", "Object"),
    ]
    assert [b["nodeId"] for b in result["browse"]] == [
        f"ns={sim_index};s=m1",
        f"ns={sim_index};s=m2",
        f"ns={sim_index};s=m3",
    ]


def test_node_opcua_reads_secure_simulator_with_login(opcua_simulator_factory: Any) -> None:
    sim_proc = opcua_simulator_factory(
        "test",
        extra_args=[
            "--opcua-security",
            "Basic256Sha256:SignAndEncrypt",
            "--opcua-user",
            "op:pw",
            "--opcua-no-anonymous",
            "--opcua-namespace-shift",
            "2",
        ],
    )
    reads = [sim("i=5001"), sim("s=Diagnostics.Text")]

    result = run_node_client(sim_proc.url, reads, security="basic256sha256", user="op:pw")

    assert result["namespaces"].index(SIM_NS) == 4  # 2 dummy namespaces before it
    assert picked(result["values"], "value", "status") == {
        sim("i=5001"): (42, "Good"),
        sim("s=Diagnostics.Text"): ("OEE-SIM", "Good"),
    }


def test_node_opcua_client_reads_node_opcua_server(node_opcua_server: Any) -> None:
    server = node_opcua_server()
    server.wait_done()
    press = f"nsu={NAMESPACE_URI};s=Press7"

    result = run_node_client(server.url, list(NODE_IDS.values()), browse=press)

    assert server.url == f"opc.tcp://127.0.0.1:{server.port}/UA/Machine"
    assert result["namespaces"].index(NAMESPACE_URI) == NAMESPACE_INDEX
    expected = {NODE_IDS[n]: (v, "Good", DATA_TYPES[n]) for n, v in FINAL_VALUES.items()}
    assert picked(result["values"], "value", "status", "dataType") == expected
    assert [(b["nodeId"], b["browseName"]) for b in result["browse"]] == [
        (f"ns={NAMESPACE_INDEX};s=Press7.{n}", f"{NAMESPACE_INDEX}:{n}") for n in DATA_TYPES
    ]
    assert server.stop() == 0


def test_node_opcua_server_secure_with_login(node_opcua_server: Any) -> None:
    server = node_opcua_server(security="basic256sha256", user="operator:s3cret")
    reads = [NODE_IDS["Reject"]]

    signed = run_node_client(
        server.url, reads, security="basic256sha256", mode="sign", user="operator:s3cret"
    )

    assert signed["values"][NODE_IDS["Reject"]]["value"] == 2
    assert hashlib.sha256(server.cert_der).hexdigest() == server.cert_sha256
    assert len(server.cert_sha256) == 64
    with pytest.raises(NodeClientError, match="ANONYMOUS"):
        run_node_client(server.url, reads, security="basic256sha256")
    with pytest.raises(NodeClientError, match="End point must exist"):
        run_node_client(server.url, reads, user="operator:s3cret")  # None is not offered
