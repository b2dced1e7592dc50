"""Config loading: the example loads; every error names its path; secrets from env/files."""

import subprocess
import sys
from pathlib import Path

import pytest

from edge.loading import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
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
    assert [m.id for m in c.machines] == ["press3", "packer1"]
    assert c.mqtt is not None and c.mqtt.password is not None
    assert c.mqtt.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(c)  # secrets never end up in logs
    assert c.machines[0].tags["temperature"].order == "CDAB"
    assert c.machines[1].modbus.addressing == 1
    assert c.influxdb is not None and c.influxdb.token is not None
    assert c.influxdb.token.get_secret_value() == ""


def test_demo_config_loads() -> None:
    from edge.demo import demo_config

    c = demo_config("/tmp/x", 5020, 1883, 8080)
    assert [m.id for m in c.machines] == ["press1", "press2", "packer1"]
    assert c.machines[2].counters is not None and c.machines[2].counters.total is not None
    assert c.machines[2].counters.total.bits == 16


def test_demo_config_follows_the_simulator_time_scale() -> None:
    from edge.config import CounterRule
    from edge.demo import demo_config

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
        "max_registers_per_read, poll_interval_s, port, timeout_s, unit_id"
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
    c = parse_config(MINIMAL + "api: {host: 0.0.0.0, api_key: '${K}'}\n", env={"K": "k1"})
    assert c.api.api_key is not None and c.api.api_key.get_secret_value() == "k1"


def test_secrets_from_env_default_and_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    text = MINIMAL + f"mqtt: {{username: u, password: '${{file:{secret}}}'}}\n"
    c = parse_config(text, env={})
    assert c.mqtt is not None and c.mqtt.password.get_secret_value() == "from-file"  # type: ignore[union-attr]
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
    assert "machines[0].tags.code.address: Input should be greater than or equal to 0" in r.stderr
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    r = subprocess.run(
        [sys.executable, "-m", "edge.cli", "check", str(good)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(
        "OK — gateway gw1, 1 machine(s), 1 tag(s), MQTT off, store SQLite (embedded)"
    )
