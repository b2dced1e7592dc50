"""Config loading: the example loads; every error names its path; secrets from env/files."""

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config.loading import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "deploy" / "examples" / "config.yaml"

MINIMAL = """
gateway: {id: gw1}
site: s1
area: a1
line: l1
machines:
  - id: m1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    ideal_cycle_s: 2
"""


def issues(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, "t.yaml", env or {})
    return [str(i) for i in e.value.issues]


def test_annotated_example_loads() -> None:
    c = load_config(EXAMPLE, env={"MQTT_PASSWORD": "s3cret"})
    assert [m.id for m in c.machines] == ["press3", "packer1", "filler3"]
    assert c.mqtt is not None and c.mqtt.password is not None
    assert c.mqtt.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(c)  # secrets never end up in logs
    assert c.machines[0].tags["temperature"].order == "CDAB"
    assert c.machines[1].modbus is not None and c.machines[1].modbus.addressing == 1
    filler = c.machines[2]
    assert filler.opcua is not None and filler.opcua.security.effective_mode == "SignAndEncrypt"
    assert filler.opcua_tags["pressure"].index == 0
    assert filler.opcua_tags["state"].node == "nsu=urn:acme:filler;s=Filler3.State"
    assert c.influxdb is not None and c.influxdb.token is not None
    assert c.influxdb.token.get_secret_value() == ""


def test_demo_config_loads() -> None:
    from edge.cli.demo import demo_config

    c = demo_config("/tmp/x", 5020, 1883, 8080)
    assert [m.id for m in c.machines] == ["press1", "press2", "packer1", "filler1"]
    assert c.machines[2].counters is not None and c.machines[2].counters.total is not None
    assert c.machines[2].counters.total.bits == 16


def test_demo_config_follows_the_simulator_time_scale() -> None:
    from edge.cli.demo import demo_config
    from edge.config import CounterRule

    c = demo_config("/tmp/x", 5020, 1883, 8080, time_scale=10)
    press1, packer1 = c.machines[0], c.machines[2]
    assert press1.ideal_cycle_s == 0.2 and press1.micro_stop_s == 1.0
    assert press1.modbus.poll_interval_s == 0.1
    assert demo_config("/tmp/x", 1, 2, 3, time_scale=100).machines[0].modbus.poll_interval_s == 0.05
    assert press1.products["102"].ideal_cycle_s == 0.25
    rule = packer1.state_rules[-1]
    assert isinstance(rule, CounterRule) and rule.within_s == 0.6


def test_every_error_has_its_path() -> None:
    text = MINIMAL.replace(
        "    tags: {code: {address: 0}}",
        "    tags:\n      code: {address: 0}\n      speed: {address: 1, type: float33}\n"
        "      s: {address: 2, type: string}\n      c: {table: coil, address: 1, type: int16}",
    ).replace("modbus: {host: 127.0.0.1}", "modbus: {host: 127.0.0.1, prot: 502}")
    got = issues(text)
    assert got[0] == (
        "machines[0].modbus.prot: unknown field; did you mean 'port'? allowed here: "
        "addressing, backoff_initial_s, backoff_max_s, host, max_bits_per_read, max_gap, "
        "max_registers_per_read, poll_interval_s, poll_phase, port, timeout_s, unit_id"
    )
    assert got[1].startswith("machines[0].tags.speed.type: Input should be 'int16', ")
    assert got[2] == (
        "machines[0].tags.s: a string tag needs `length` (number of registers, 2 chars each)"
    )
    assert got[3] == "machines[0].tags.c: a coil holds single bits: use type: bit (not int16)"
    assert len(got) == 4


def test_rule_errors_name_rule_and_tag() -> None:
    text = MINIMAL + "    state_rules:\n      - {tag: code, map: {1: flying}}\n"
    assert issues(text) == [
        "machines[0].state_rules[0].map[1]: Input should be 'running', 'idle', 'setup', "
        "'fault', 'planned_stop' or 'offline'"
    ]
    text = MINIMAL + "    state_rules:\n      - {tag: nope, state: fault}\n"
    assert issues(text) == [
        "machines[0]: state_rules[0].tag names tag 'nope', which is not under `tags` (known: code)"
    ]
    text = MINIMAL + "    state_rules:\n      - {counter: total, within_s: 5}\n"
    assert issues(text) == [
        "machines[0]: state_rules[0] watches counter 'total', which `counters` does not define"
    ]


def test_missing_fields_and_duplicates() -> None:
    text = MINIMAL.replace("    ideal_cycle_s: 2\n", "") + MINIMAL.split("machines:\n")[1]
    got = issues(text)
    assert got == ["machines[0].ideal_cycle_s: required field is missing"]
    got = issues(MINIMAL + MINIMAL.split("machines:\n")[1])
    assert got == ["machine id 'm1' is used twice; ids must be unique"]


def test_api_off_loopback_needs_key() -> None:
    got = issues(MINIMAL + "api: {host: 0.0.0.0}\n")
    assert got == [
        "api: binding the API to 0.0.0.0 needs `api_key` (from env: api_key: ${OEE_API_KEY}); "
        "without a key it may bind to 127.0.0.1 only"
    ]
    key = "k1-0f9e8d7c6b5a4"
    c = parse_config(MINIMAL + "api: {host: 0.0.0.0, api_key: '${K}'}\n", env={"K": key})
    assert c.api.api_key is not None and c.api.api_key.get_secret_value() == key


def test_secrets_from_env_default_and_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    text = MINIMAL + f"mqtt: {{username: u, password: '${{file:{secret}}}'}}\n"
    c = parse_config(text, env={})
    assert c.mqtt is not None and c.mqtt.password.get_secret_value() == "from-file"  # type: ignore[union-attr]
    secret.write_bytes(b"from-windows\r\n")  # no carriage return left in the password
    c = parse_config(text, env={})
    assert c.mqtt is not None and c.mqtt.password.get_secret_value() == "from-windows"  # type: ignore[union-attr]
    c = parse_config(MINIMAL + "mqtt: {port: '${P:-1884}'}\n", env={})
    assert c.mqtt is not None and c.mqtt.port == 1884
    assert issues(MINIMAL + "mqtt: {password: '${MQTT_PW}'}\n") == [
        "mqtt.password: environment variable MQTT_PW is not set "
        "(set it, or write ${MQTT_PW:-default})"
    ]


def test_yaml_syntax_error_gives_line() -> None:
    assert issues("gateway: {id: gw1\nsite: x\n")[0].startswith("line 2, column 5: invalid YAML")


def test_check_command_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("address: 0", "address: -1"))
    r = subprocess.run(
        [sys.executable, "-m", "edge.cli", "check", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 1
    assert "1 problem(s)" in r.stderr
    assert (
        "machines[0].tags.code.address: -1 is out of range: write a whole number from 0 to 65536"
        in r.stderr
    )
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    r = subprocess.run(
        [sys.executable, "-m", "edge.cli", "check", str(good)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(
        "OK — gateway gw1, 1 machine(s), 1 tag(s), MQTT off, store SQLite (embedded)"
    )


OPCUA = """
gateway: {id: gw}
site: s
area: a
line: l
machines:
  - id: m1
    ideal_cycle_s: 1
    opcua: {endpoint: "opc.tcp://127.0.0.1:4840"%s}
    tags:
%s
"""


def opcua(conn: str = "", tags: str = "      state: ns=2;s=State") -> str:
    return OPCUA % (conn, tags)


def test_opcua_machine_and_tag_shorthand() -> None:
    c = parse_config(
        opcua(", mode: poll", "      state: nsu=urn:x;s=A\n      speed: {node: 'i=5', index: 1}")
    )
    m = c.machines[0]
    assert m.opcua is not None and m.opcua.mode == "poll" and m.modbus is None
    assert {k: (t.node, t.index) for k, t in m.opcua_tags.items()} == {
        "state": ("nsu=urn:x;s=A", None),
        "speed": ("i=5", 1),
    }
    assert m.opcua.security.policy == "None" and m.opcua.security.effective_mode == "None"
    assert m.opcua.auth.kind == "anonymous"


def test_opcua_errors_speak_opcua() -> None:
    assert issues(opcua(tags="      state: {nod: 'ns=2;s=A'}")) == [
        "machines[0].tags.state.node: required field is missing",
        "machines[0].tags.state.nod: unknown field; did you mean 'node'? allowed here: "
        "deadband, field, index, node, offset, scale",
    ]
    assert issues(opcua(tags="      state: x=2")) == [
        "machines[0].tags.state.node: 'x=2' is not an OPC UA node id: write ns=2;s=Name, "
        "ns=2;i=1001, ns=2;g=<guid>, ns=2;b=<base64> or nsu=<namespace uri>;s=Name"
    ]
    assert issues(opcua(tags="      state: {address: 3}")) == [
        "machines[0]: tags.state: an OPC UA machine's tags look like {node: ns=2;s=Name}"
    ]
    assert issues(opcua(", endpoin: x")) == [
        "machines[0].opcua.endpoin: unknown field; did you mean 'endpoint'? allowed here: "
        "auth, backoff_initial_s, backoff_max_s, deadband, endpoint, max_nodes_per_read, mode, "
        "poll_interval_s, publishing_interval_s, queue_size, sampling_interval_s, security, "
        "session_timeout_s, share_session, timeout_s, timestamp, watchdog_s"
    ]


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        (
            ", security: {policy: None, mode: Sign}",
            "machines[0].opcua.security: security policy None needs mode None (got Sign)",
        ),
        (
            ", security: {policy: Basic256Sha256, mode: None}",
            "machines[0].opcua.security: security policy Basic256Sha256 needs mode Sign or "
            "SignAndEncrypt (got None)",
        ),
        (
            ", auth: {username: op}",
            "machines[0].opcua.auth: username and password go together "
            "(password: ${OPCUA_PASSWORD})",
        ),
        (
            ", auth: {certificate: u.der}",
            "machines[0].opcua.auth: a user certificate needs its private_key",
        ),
        (
            ", security: {server_fingerprint: 'AB:CD'}",
            "machines[0].opcua.security.server_fingerprint: String should match pattern "
            "'^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$'",
        ),
        (", mode: subscribe", "machines[0].opcua.mode: Input should be 'subscription' or 'poll'"),
    ],
)
def test_opcua_connection_errors(conn: str, message: str) -> None:
    assert issues(opcua(conn)) == [message]


def test_a_machine_has_exactly_one_connection() -> None:
    both = opcua(tags="      state: ns=2;s=A").replace(
        "    tags:", "    modbus: {host: h}\n    tags:"
    )
    assert issues(both) == [
        "machines[0]: give the machine exactly one connection: `modbus` or `opcua`"
    ]
    neither = opcua().replace('    opcua: {endpoint: "opc.tcp://127.0.0.1:4840"}\n', "")
    assert issues(neither) == [
        "machines[0]: give the machine exactly one connection: `modbus` or `opcua`"
    ]


def test_demo_config_reads_chosen_machines_over_opcua() -> None:
    from edge.cli.demo import OPCUA_MACHINES, demo_config
    from edge.config import BoolRule, CodeMapRule, CounterRule

    url = "opc.tcp://127.0.0.1:4840/oee-edge/sim"
    c = demo_config("/tmp/x", 5020, 1883, 8080, opcua_endpoint=url,
                    opcua_machines=OPCUA_MACHINES["mixed"])  # fmt: skip
    press1, packer1 = c.machines[0], c.machines[2]
    assert press1.modbus is not None and packer1.opcua is not None
    assert packer1.opcua.endpoint == url
    assert (
        packer1.opcua_tags["total16"].node
        == "nsu=urn:oee-edge:simulator;s=packer1.Counters.Total16"
    )
    # fault stays a boolean; setup and planned bits are read off the state code instead.
    rules = packer1.state_rules
    assert isinstance(rules[0], BoolRule) and rules[0].tag == "fault"
    assert isinstance(rules[1], CodeMapRule) and rules[1].map == {4: "setup", 5: "planned_stop"}
    assert isinstance(rules[2], CounterRule) and len(rules) == 3
    every = demo_config("/tmp/x", 1, 2, 3, 10, opcua_endpoint=url,
                        opcua_machines=OPCUA_MACHINES["opcua"])  # fmt: skip
    assert all(m.opcua is not None for m in every.machines)
    assert every.machines[0].opcua.publishing_interval_s == 0.05  # type: ignore[union-attr]
