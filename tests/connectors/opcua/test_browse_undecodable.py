"""`oee-edge browse --node i=2253` against a server whose SessionSecurityDiagnosticsArray
holds a value encoded by the specification, as open62541 serves it, which asyncua 2.1
cannot decode: that node is shown as undecodable and the walk goes on."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.opcua.browse import browse as browse_tree
from connectors.opcua.client import close_client, open_client
from connectors.opcua.pki import Pki
from edge.cli.main import main
from edge.config import OpcUaConnection

from .browse_server import ServerThread

ROW = (
    "i=3708",
    "Server/ServerDiagnostics/SessionsDiagnosticsSummary/SessionSecurityDiagnosticsArray",
    "SessionSecurityDiagnosticsDataType[]",
    "<undecodable: SessionSecurityDiagnosticsDataType>",
    "?",
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    srv = ServerThread(undecodable=True).start()
    yield srv
    srv.stop()


def browse(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["browse", *argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def rows(table: str) -> dict[str, list[str]]:
    """Table rows by node id, cells split on the column gaps."""
    return {
        line.split()[0]: [c.strip() for c in line.split("  ") if c.strip()]
        for line in table.splitlines()[1:]
    }


def test_an_undecodable_value_is_shown_as_such_and_the_walk_goes_on(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = browse(capsys, server.url, "--node", "i=2253")
    assert rc == 0
    got = rows(out)
    assert tuple(got["i=3708"]) == ROW
    # Its neighbours, read in the same request, are all there with their values.
    assert got["i=2255"] == [
        "i=2255",
        "Server/NamespaceArray",
        "String[3]",
        '["http://opcfoundation.org/UA/", "urn:f…',
        "Good",
    ]
    assert got["i=2259"] == ["i=2259", "Server/ServerStatus/State", "ServerState", "0", "Good"]
    assert len(got) > 250  # the whole diagnostics tree, not what came before the bad value
    assert [r for r in got.values() if r[-1] != "Good"] == [list(ROW)]
    assert re.fullmatch(
        rf"{len(got)} variable\(s\); \d+ node\(s\) browsed under Server; "
        r"1 value\(s\) asyncua cannot decode \(shown as <undecodable: TYPE>\)\n",
        err,
    )


def test_json_names_what_could_not_be_decoded(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = browse(capsys, server.url, "--node", "i=3708", "--format", "json")
    assert rc == 0
    assert json.loads(out) == [
        {
            "node": "i=3708",
            "path": "SessionSecurityDiagnosticsArray",
            "data_type": "SessionSecurityDiagnosticsDataType",
            "array": True,
            "value": None,
            "status": None,
            "undecodable": "Not enough data left in buffer, request for 1426063360, we have 136",
        }
    ]


def test_config_offers_it_as_a_comment(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = browse(capsys, server.url, "--node", "i=3708", "--format", "config")
    assert rc == 0
    assert out.splitlines()[-3:] == [
        "    tags: {}",
        "      # arrays and structures: uncomment with the element or field to read",
        '      # session_security_diagnostics_array: {node: "i=3708", index: 0}  '
        "# SessionSecurityDiagnosticsDataType[], SessionSecurityDiagnosticsArray (undecodable)",
    ]


async def test_a_bad_value_costs_a_few_requests_not_one_per_node(server: ServerThread) -> None:
    """The request that held it is split in halves down to the value: about two
    requests per halving, whatever the number of variables."""
    client = await open_client(
        OpcUaConnection(endpoint=server.url), Pki(Path("unused")), application_uri="urn:test"
    )
    sizes: list[int] = []
    read = client.uaclient.read

    async def counting_read(params: object) -> object:  # a spy: the real request still goes out
        sizes.append(len(params.NodesToRead))  # type: ignore[attr-defined]
        return await read(params)  # type: ignore[arg-type]

    client.uaclient.read = counting_read  # type: ignore[method-assign,assignment]
    try:
        report = await browse_tree(client, "i=2253", depth=6)
    finally:
        await close_client(client)
    values = 3 * len(report.variables)
    root, first, *split, names = sizes
    assert (root, first) == (3, values)  # the start node, then every variable at once
    assert len(split) <= 2 * math.ceil(math.log2(values))
    assert sum(split) <= 2 * values
    assert names < 100  # then the names of the data types seen
