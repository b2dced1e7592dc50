"""`oee-edge browse` against real OPC UA servers: small asyncua servers of our own (one
plain, one Basic256Sha256-only with user logins; see browse_server.py) and the bundled
simulator. The CLI runs in-process through `edge.cli.main`, once as the installed script."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.opcua.browse import browse
from connectors.opcua.browse_format import snake, tag_names
from connectors.opcua.client import close_client, open_client
from connectors.opcua.pki import Pki
from edge.cli.main import main
from edge.config import OpcUaConnection
from edge.config.loading import parse_config
from tests.fixtures.opcua_simulator import OpcuaSimulatorFactory
from tests.fixtures.ports import free_port

from .browse_server import PASSWORD, USER, ServerThread

NSU = "nsu=urn:oee-edge:simulator"
MACHINES = f"{NSU};s=Machines"
REPO = Path(__file__).resolve().parents[3]
SKIPPED = "Objects/Server skipped (server diagnostics: --node i=2253 lists them)"

MACHINES_TABLE = """\
NODE                                              PATH                          TYPE     VALUE  STATUS
nsu=urn:oee-edge:simulator;s=m1.State             Machines/m1/State             UInt16   1      Good
nsu=urn:oee-edge:simulator;s=m1.Running           Machines/m1/Running           Boolean  true   Good
nsu=urn:oee-edge:simulator;s=m1.Counters.Total    Machines/m1/Counters/Total    UInt32   1234   Good
nsu=urn:oee-edge:simulator;s=m1.Counters.Total16  Machines/m1/Counters/Total16  UInt16   1234   Good
nsu=urn:oee-edge:simulator;s=m1.Speed             Machines/m1/Speed             Double   60.5   Good
"""  # noqa: E501

OBJECTS_TABLE = """\
NODE                                                PATH                                  TYPE         VALUE            STATUS
i=32852                                             Objects/Aliases/LastChange            VersionTime  null             Good
nsu=urn:oee-edge:simulator;s=m1.State               Objects/Machines/m1/State             UInt16       1                Good
nsu=urn:oee-edge:simulator;s=m1.Running             Objects/Machines/m1/Running           Boolean      true             Good
nsu=urn:oee-edge:simulator;s=m1.Counters.Total      Objects/Machines/m1/Counters/Total    UInt32       1234             Good
nsu=urn:oee-edge:simulator;s=m1.Counters.Total16    Objects/Machines/m1/Counters/Total16  UInt16       1234             Good
nsu=urn:oee-edge:simulator;s=m1.Speed               Objects/Machines/m1/Speed             Double       60.5             Good
nsu=urn:oee-edge:simulator;i=5001                   Objects/Diagnostics/Numeric           UInt32       42               Good
nsu=urn:oee-edge:simulator;s=Diagnostics.Array      Objects/Diagnostics/Array             Double[3]    [1.5, 2.5, 3.5]  Good
nsu=urn:oee-edge:simulator;s=Diagnostics.Uncertain  Objects/Diagnostics/Uncertain         Double       7.0              UncertainLastUsableValue
nsu=urn:oee-edge:simulator;s=Diagnostics.Bad        Objects/Diagnostics/Bad               Double       -                BadSensorFailure
nsu=urn:oee-edge:simulator;s=Diagnostics.Text       Objects/Diagnostics/Text              String       "OEE-SIM"        Good
"""  # noqa: E501

MACHINE_SNIPPET = """\
# oee-edge browse: 5 variable(s) under Machines.
# Add gateway, site, area and line at the top, and ideal_cycle_s, state_rules and
# counters to the machine (see docs/opcua-browse.md), then: oee-edge check FILE
machines:
  - id: press1
    opcua:
      endpoint: {url}
    tags:
      state: "nsu=urn:oee-edge:simulator;s=m1.State"               # UInt16, Machines/m1/State
      running: "nsu=urn:oee-edge:simulator;s=m1.Running"           # Boolean, Machines/m1/Running
      total: "nsu=urn:oee-edge:simulator;s=m1.Counters.Total"      # UInt32, Machines/m1/Counters/Total
      total16: "nsu=urn:oee-edge:simulator;s=m1.Counters.Total16"  # UInt16, Machines/m1/Counters/Total16
      speed: "nsu=urn:oee-edge:simulator;s=m1.Speed"               # Double, Machines/m1/Speed
"""  # noqa: E501

DIAGNOSTICS_SNIPPET_TAGS = """\
    tags:
      numeric: "nsu=urn:oee-edge:simulator;i=5001"                     # UInt32, Diagnostics/Numeric
      uncertain: "nsu=urn:oee-edge:simulator;s=Diagnostics.Uncertain"  # Double, Diagnostics/Uncertain (UncertainLastUsableValue)
      bad: "nsu=urn:oee-edge:simulator;s=Diagnostics.Bad"              # Double, Diagnostics/Bad (BadSensorFailure)
      text: "nsu=urn:oee-edge:simulator;s=Diagnostics.Text"            # String, Diagnostics/Text
      # arrays and structures: uncomment with the element or field to read
      # array: {node: "nsu=urn:oee-edge:simulator;s=Diagnostics.Array", index: 0}  # Double[3], Diagnostics/Array
"""  # noqa: E501

TOP = "gateway: {id: gw1}\nsite: plant\narea: a1\nline: l1\n"


@dataclass(frozen=True)
class Run:
    rc: int
    out: str
    err: str


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    srv = ServerThread().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    srv = ServerThread(secure_dir=tmp_path_factory.mktemp("server-pki")).start()
    yield srv
    srv.stop()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    rc = main(["browse", *argv])
    captured = capsys.readouterr()
    return Run(rc, captured.out, captured.err)


def with_machine_fields(snippet: str, machine: str) -> str:
    """The snippet as a whole config: top-level fields plus the machine's ideal_cycle_s."""
    return TOP + snippet.replace(
        f"  - id: {machine}\n", f"  - id: {machine}\n    ideal_cycle_s: 2\n"
    )


# ------------------------------------------------------------------------- table


def test_table_one_aligned_line_per_variable(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", MACHINES)
    assert (r.rc, r.out) == (0, MACHINES_TABLE)
    assert r.err == "5 variable(s); 8 node(s) browsed under Machines\n"


def test_default_start_is_objects_without_the_server_object(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url)
    assert (r.rc, r.out) == (0, OBJECTS_TABLE)
    assert r.err == f"11 variable(s); 20 node(s) browsed under Objects; {SKIPPED}\n"


def test_depth_limit_stops_the_walk_and_says_so(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", MACHINES, "--depth", "2")
    assert r.rc == 0
    assert [line.split()[1] for line in r.out.splitlines()] == [
        "PATH",
        "Machines/m1/State",
        "Machines/m1/Running",
        "Machines/m1/Speed",
    ]
    assert r.err == (
        "3 variable(s); 6 node(s) browsed under Machines; "
        "depth limit 2 reached: 1 object(s) not browsed (raise --depth)\n"
    )


def test_depth_zero_on_a_variable_lists_just_it(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", f"{NSU};s=m1.Speed", "--depth", "0")
    assert r.rc == 0
    assert r.out.splitlines()[1].split() == [f"{NSU};s=m1.Speed", "Speed", "Double", "60.5", "Good"]
    assert r.err == "1 variable(s); 1 node(s) browsed under Speed\n"


@pytest.mark.parametrize(
    ("pattern", "paths"),
    [
        (
            "*counters*",
            ["Objects/Machines/m1/Counters/Total", "Objects/Machines/m1/Counters/Total16"],
        ),
        ("SPEED", ["Objects/Machines/m1/Speed"]),  # the display name, any case
        (
            "objects/diagnostics/?????",
            ["Objects/Diagnostics/Array"],
        ),
    ],
)
def test_filter_is_a_case_insensitive_glob_on_path_or_name(
    server: ServerThread, capsys: pytest.CaptureFixture[str], pattern: str, paths: list[str]
) -> None:
    r = run(capsys, server.url, "--filter", pattern)
    assert r.rc == 0
    assert [line.split()[1] for line in r.out.splitlines()[1:]] == paths
    assert r.err.startswith(f"{len(paths)} variable(s) matching '{pattern}'; 20 node(s) browsed")


def test_filter_matching_nothing_prints_no_table(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--filter", "*nothing*")
    assert (r.rc, r.out) == (0, "")
    assert (
        r.err
        == f"0 variable(s) matching '*nothing*'; 20 node(s) browsed under Objects; {SKIPPED}\n"
    )


def test_structure_shows_its_type_name(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", "i=2256", "--depth", "0")
    assert r.rc == 0
    node, path, data_type, value, status = r.out.splitlines()[1].split("  ", 4)
    assert (node, path, data_type) == ("i=2256", "ServerStatus", "ServerStatusDataType")
    assert value.startswith('{"StartTime": "20') and value.endswith("…")
    assert status.strip() == "Good"


# ------------------------------------------------------------------------- json


def test_json_lists_node_path_type_array_value_status(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--filter", "*/Diagnostics/*", "--format", "json")
    assert r.rc == 0
    assert json.loads(r.out) == [
        {
            "node": f"{NSU};i=5001",
            "path": "Objects/Diagnostics/Numeric",
            "data_type": "UInt32",
            "array": False,
            "value": 42,
            "status": "Good",
        },
        {
            "node": f"{NSU};s=Diagnostics.Array",
            "path": "Objects/Diagnostics/Array",
            "data_type": "Double",
            "array": True,
            "value": [1.5, 2.5, 3.5],
            "status": "Good",
        },
        {
            "node": f"{NSU};s=Diagnostics.Uncertain",
            "path": "Objects/Diagnostics/Uncertain",
            "data_type": "Double",
            "array": False,
            "value": 7.0,
            "status": "UncertainLastUsableValue",
        },
        {
            "node": f"{NSU};s=Diagnostics.Bad",
            "path": "Objects/Diagnostics/Bad",
            "data_type": "Double",
            "array": False,
            "value": None,
            "status": "BadSensorFailure",
        },
        {
            "node": f"{NSU};s=Diagnostics.Text",
            "path": "Objects/Diagnostics/Text",
            "data_type": "String",
            "array": False,
            "value": "OEE-SIM",
            "status": "Good",
        },
    ]


def test_json_structure_value_is_an_object(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", "i=2256", "--depth", "0", "--format", "json")
    (item,) = json.loads(r.out)
    assert (item["data_type"], item["array"], item["status"]) == (
        "ServerStatusDataType",
        False,
        "Good",
    )
    assert list(item["value"]) == [
        "StartTime",
        "CurrentTime",
        "State",
        "BuildInfo",
        "SecondsTillShutdown",
        "ShutdownReason",
    ]
    assert item["value"]["BuildInfo"]["ProductUri"] == "urn:freeopcua.github.io:python:server"


# ------------------------------------------------------------------------- config


def test_config_snippet_parses_once_top_level_fields_are_added(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", MACHINES, "--format", "config", "--machine", "press1")
    assert (r.rc, r.out) == (0, MACHINE_SNIPPET.format(url=server.url))
    config = parse_config(with_machine_fields(r.out, "press1"), env={})
    (machine,) = config.machines
    assert machine.id == "press1"
    assert machine.opcua is not None and machine.opcua.endpoint == server.url
    assert {k: t.node for k, t in machine.opcua_tags.items()} == {
        "state": f"{NSU};s=m1.State",
        "running": f"{NSU};s=m1.Running",
        "total": f"{NSU};s=m1.Counters.Total",
        "total16": f"{NSU};s=m1.Counters.Total16",
        "speed": f"{NSU};s=m1.Speed",
    }


def test_config_puts_arrays_in_comments_ready_to_uncomment(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", f"{NSU};s=Diagnostics", "--format", "config")
    assert r.rc == 0
    assert r.out.endswith(DIAGNOSTICS_SNIPPET_TAGS)
    assert "  - id: machine\n" in r.out
    uncommented = r.out.replace("      # array: {", "      array: {")
    (machine,) = parse_config(with_machine_fields(uncommented, "machine"), env={}).machines
    array = machine.opcua_tags["array"]
    assert (array.node, array.index) == (f"{NSU};s=Diagnostics.Array", 0)
    assert sorted(machine.opcua_tags) == ["array", "bad", "numeric", "text", "uncertain"]


def test_config_puts_structures_in_comments_with_their_fields(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, server.url, "--node", "i=2256", "--depth", "0", "--format", "config")
    assert r.rc == 0
    assert r.out.endswith(
        "    tags: {}\n"
        "      # arrays and structures: uncomment with the element or field to read\n"
        '      # server_status: {node: "i=2256", field: StartTime}  # ServerStatusDataType, '
        "ServerStatus; fields: StartTime, CurrentTime, State, BuildInfo, SecondsTillShutdown, "
        "ShutdownReason\n"
    )
    assert parse_config(with_machine_fields(r.out, "machine"), env={}).machines[0].tags == {}


def test_tag_names_grow_only_where_they_clash() -> None:
    paths = [("m1", "State"), ("m2", "State"), ("m1", "Counters", "Total16"), ("Speed",)]
    assert tag_names(paths) == ["m1_state", "m2_state", "total16", "speed"]
    assert tag_names([("A", "x"), ("a", "X")]) == ["a_x", "a_x_2"]
    assert [snake(s) for s in ("ServerStatus", "EURange", "Total16", "--")] == [
        "server_status",
        "eu_range",
        "total16",
        "tag",
    ]


# ------------------------------------------------------------------------- batching


async def test_walk_uses_batched_requests(server: ServerThread) -> None:
    """One Read for all variables' attributes (three per node, never split), not one each."""
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
        report = await browse(client, depth=6)
        assert len(report.variables) == 11
        # root attributes, 11 variables x (DataType, ValueRank, Value), 6 data type names
        assert sizes == [3, 33, 6]
        sizes.clear()
        again = await browse(client, depth=6, max_per_read=7)
        assert again == report
        assert sizes == [3, 6, 6, 6, 6, 6, 3, 6]
    finally:
        await close_client(client)


# ------------------------------------------------------------------------- errors


def test_unknown_start_node(server: ServerThread, capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, server.url, "--node", f"{NSU};s=NoSuchNode")
    assert (r.rc, r.out) == (2, "")
    assert r.err == f"error: {NSU};s=NoSuchNode: the server has no such node (BadNodeIdUnknown)\n"
    r = run(capsys, server.url, "--node", "nsu=urn:nowhere;s=x")
    assert (r.rc, r.out) == (2, "")
    assert r.err == (
        "error: nsu=urn:nowhere;s=x: the server has no namespace 'urn:nowhere' (it has "
        "0: http://opcfoundation.org/UA/, 1: urn:freeopcua:python:server, "
        "2: urn:oee-edge:simulator)\n"
    )


def test_unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    r = run(capsys, f"opc.tcp://127.0.0.1:{port}")
    assert (r.rc, r.out) == (2, "")
    assert r.err == (
        f"error: opc.tcp://127.0.0.1:{port}: connection refused "
        "(is the server up, the port right?)\n"
    )


def test_silent_endpoint_times_out(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as listener:  # accepts TCP, never speaks OPC UA
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"opc.tcp://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        r = run(capsys, url, "--timeout", "0.5")
        elapsed = time.monotonic() - started
    assert (r.rc, r.out, r.err) == (2, "", f"error: {url}: no answer within 0.5s\n")
    assert 0.5 <= elapsed < 2.0


def test_untrusted_server_certificate_then_trusted(
    secure_server: ServerThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BROWSE_TEST_PW", PASSWORD)
    data = tmp_path / "data"
    argv = [secure_server.url, "--policy", "Basic256Sha256", "--data-dir", str(data)]
    argv += ["--user", USER, "--password-env", "BROWSE_TEST_PW", "--node", f"{NSU};s=m1"]
    fp = secure_server.fingerprint
    rejected = data / "pki" / "rejected" / f"{fp.replace(':', '')[:16].lower()}.der"

    r = run(capsys, *argv)
    assert (r.rc, r.out) == (2, "")
    assert r.err == (
        f"error: the server certificate of {secure_server.url} (O=oee-edge tests,"
        f"CN=browse-test-server, SHA-256 {fp}) is not trusted: move {rejected} into "
        f"{data / 'pki' / 'trusted'}/ or pass --trust-fingerprint SHA256\n"
    )
    assert rejected.read_bytes() == secure_server.cert_der

    r = run(capsys, *argv, "--trust-fingerprint", fp)
    assert r.rc == 0
    assert r.out.splitlines()[1].split() == [f"{NSU};s=m1.State", "m1/State", "UInt16", "1", "Good"]
    assert r.err == "5 variable(s); 7 node(s) browsed under m1\n"

    (data / "pki" / "trusted").mkdir()
    shutil.move(rejected, data / "pki" / "trusted")  # the one `mv` the message asks for
    r = run(capsys, *argv)
    assert (r.rc, len(r.out.splitlines())) == (0, 6)


def test_wrong_password_is_refused_without_showing_it(
    secure_server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pw").write_text("not-the-password\n")
    r = run(
        capsys,
        secure_server.url,
        "--policy",
        "Basic256Sha256",
        "--trust-fingerprint",
        secure_server.fingerprint,
        "--data-dir",
        str(tmp_path / "data"),
        "--user",
        USER,
        "--password-file",
        str(tmp_path / "pw"),
    )
    assert (r.rc, r.out) == (2, "")
    assert r.err == f"error: {secure_server.url} refused user 'operator' (BadUserAccessDenied)\n"


def test_password_file_and_config_reference(
    secure_server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    fp = secure_server.fingerprint
    r = run(
        capsys,
        secure_server.url,
        "--policy",
        "Basic256Sha256",
        "--trust-fingerprint",
        fp,
        "--data-dir",
        str(tmp_path / "data"),
        "--user",
        USER,
        "--password-file",
        str(pw),
        "--node",
        f"{NSU};s=m1.Counters",
        "--format",
        "config",
        "--machine",
        "m1",
    )
    assert r.rc == 0
    assert PASSWORD not in r.out + r.err
    assert (
        "    opcua:\n"
        f"      endpoint: {secure_server.url}\n"
        "      security:\n"
        "        policy: Basic256Sha256\n"
        "        mode: SignAndEncrypt\n"
        f"        server_fingerprint: {fp}\n"
        "      auth:\n"
        "        username: operator\n"
        f"        password: ${{file:{pw}}}\n"
        "    tags:\n"
    ) in r.out
    (machine,) = parse_config(with_machine_fields(r.out, "m1"), env={}).machines
    assert machine.opcua is not None and machine.opcua.auth.password is not None
    assert machine.opcua.auth.password.get_secret_value() == PASSWORD
    assert sorted(machine.opcua_tags) == ["total", "total16"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--password", "hunter2"],
            "passwords are not accepted on the command line: use --password-env VAR or "
            "--password-file FILE",
        ),
        (["--user", "op"], "--user op needs --password-env VAR or --password-file FILE"),
        (["--password-env", "X"], "--password-env/--password-file need --user"),
        (
            ["--user", "op", "--password-env", "BROWSE_TEST_UNSET"],
            "--password-env: environment variable BROWSE_TEST_UNSET is not set",
        ),
        (["--user-cert", "u.pem"], "--user-cert and --user-key go together"),
        (["--mode", "Sign"], "--mode Sign needs a --policy, e.g. --policy Basic256Sha256"),
        (
            ["--trust-fingerprint", "AB:CD"],
            "--trust-fingerprint: write the 64 hex digits of a SHA-256 (colons optional)",
        ),
        (
            ["--node", "q=1"],
            "q=1: not a valid node id (Could not find identifier in string: ns=0;q=1)",
        ),
        (["--machine", "press 1"], "--machine 'press 1': use letters, digits, _ . - (e.g. press1)"),
        (["--depth", "-1"], "--depth must be 0 or more"),
    ],
)
def test_option_errors_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, "opc.tcp://127.0.0.1:1", *argv)
    assert (r.rc, r.out, r.err) == (2, "", f"error: {message}\n")
    assert "hunter2" not in r.err


def test_endpoint_must_be_opc_tcp(capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, "http://plc1:4840")
    assert (r.rc, r.err) == (
        2,
        "error: 'http://plc1:4840' is not an OPC UA endpoint: write opc.tcp://host:port\n",
    )


# ------------------------------------------------------------------------- simulator, script


def test_browses_the_bundled_simulator(
    opcua_simulator_factory: OpcuaSimulatorFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = opcua_simulator_factory("test", time_scale=2000)  # the 180 s script ends in 0.09 s
    time.sleep(0.3)
    r = run(capsys, sim.url, "--filter", "*/m1/counters/*")
    assert r.rc == 0
    assert [line.split() for line in r.out.splitlines()] == [
        ["NODE", "PATH", "TYPE", "VALUE", "STATUS"],
        [
            f"{NSU};s=m1.Counters.Total",
            "Objects/Machines/m1/Counters/Total",
            "UInt32",
            "50",
            "Good",
        ],
        [f"{NSU};s=m1.Counters.Good", "Objects/Machines/m1/Counters/Good", "UInt32", "40", "Good"],
        [
            f"{NSU};s=m1.Counters.Reject",
            "Objects/Machines/m1/Counters/Reject",
            "UInt32",
            "10",
            "Good",
        ],
        [
            f"{NSU};s=m1.Counters.Total16",
            "Objects/Machines/m1/Counters/Total16",
            "UInt16",
            "50",
            "Good",
        ],
        [
            f"{NSU};s=m1.Counters.Reject16",
            "Objects/Machines/m1/Counters/Reject16",
            "UInt16",
            "10",
            "Good",
        ],
    ]


def test_installed_script(server: ServerThread) -> None:
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "oee-edge"), "browse", server.url, "--node", MACHINES],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (proc.returncode, proc.stdout) == (0, MACHINES_TABLE)
    assert proc.stderr == "5 variable(s); 8 node(s) browsed under Machines\n"


def _sigint_as_at_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_quietly() -> None:
    with socket.socket() as listener:  # accepts TCP, never answers: the browse hangs
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"opc.tcp://127.0.0.1:{listener.getsockname()[1]}"
        proc = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "oee-edge"), "browse", url, "--timeout", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # A background job of a non-interactive shell ignores SIGINT and its children
            # inherit that: Ctrl-C as a terminal sends it is what is under test here.
            preexec_fn=_sigint_as_at_a_terminal,
        )
        listener.settimeout(15)
        conn, _ = listener.accept()  # the client is connecting now
        with conn:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
    assert (proc.returncode, out, err) == (130, "", "")
