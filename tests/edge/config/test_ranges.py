"""Every number of the config file is finite and in a sane range; a refusal names the
field's path and the range to write (README "Configuration" lists them)."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.config.loading import ConfigError, parse_config
from tests.fixtures.gateway_process import OEE_EDGE

KEY = "0123456789abcdef"  # 16 characters: the shortest key accepted
BASE: dict[str, Any] = {
    "gateway": {"id": "gw1"},
    "site": "s1",
    "area": "a1",
    "line": "l1",
    "machines": [
        {
            "id": "m1",
            "modbus": {"host": "127.0.0.1"},
            "tags": {"code": {"address": 0}, "speed": {"address": 1}},
            "state_rules": [{"tag": "code", "map": {1: "running"}}],
            "counters": {"total": {"tag": "code"}},
            "products": {"p1": {"ideal_cycle_s": 1}},
            "ideal_cycle_s": 2,
        },
        {
            "id": "m2",
            "opcua": {"endpoint": "opc.tcp://127.0.0.1:4840"},
            "tags": {"state": {"node": "ns=2;s=State"}},
            "state_rules": [{"counter": "total", "within_s": 10}],
            "counters": {"total": {"tag": "state"}},
            "ideal_cycle_s": 2,
        },
    ],
    "mqtt": {},
    "sqlite": {},
    "outbox": {},
    "api": {},
    "oee": {"windows": ["1h"]},
}

S = "a number of seconds"
# (path, lowest, highest, what): every number of the file with its range.
RANGES: list[tuple[str, float, float, str]] = [
    ("machines[0].ideal_cycle_s", 0.001, 86400, S),
    ("machines[0].products.p1.ideal_cycle_s", 0.001, 86400, S),
    ("machines[0].micro_stop_s", 0, 3600, S),
    ("machines[0].startup_s", 0, 86400, S),
    ("machines[1].state_rules[0].within_s", 0.01, 86400, S),
    ("machines[0].modbus.port", 1, 65535, "a whole number"),
    ("machines[0].modbus.unit_id", 0, 255, "a whole number"),
    ("machines[0].modbus.timeout_s", 0.01, 60, S),
    ("machines[0].modbus.poll_interval_s", 0.01, 3600, S),
    ("machines[0].modbus.max_registers_per_read", 1, 125, "a whole number of registers"),
    ("machines[0].modbus.max_bits_per_read", 1, 2000, "a whole number of bits"),
    ("machines[0].modbus.max_gap", 0, 65535, "a whole number of registers"),
    ("machines[0].modbus.backoff_initial_s", 0.01, 3600, S),
    ("machines[0].modbus.backoff_max_s", 0.01, 3600, S),
    ("machines[0].tags.code.address", 0, 65536, "a whole number"),  # and the tag's span:
    ("machines[0].tags.code.scale", -1e12, 1e12, "a number"),
    ("machines[0].tags.code.offset", -1e12, 1e12, "a number"),
    ("machines[1].opcua.publishing_interval_s", 0.01, 3600, S),
    ("machines[1].opcua.sampling_interval_s", 0, 3600, S),
    ("machines[1].opcua.queue_size", 1, 10000, "a whole number"),
    ("machines[1].opcua.poll_interval_s", 0.01, 3600, S),
    ("machines[1].opcua.max_nodes_per_read", 1, 100000, "a whole number"),
    ("machines[1].opcua.timeout_s", 0.01, 60, S),
    ("machines[1].opcua.session_timeout_s", 1, 3600, S),
    ("machines[1].opcua.watchdog_s", 0.01, 3600, S),
    ("machines[1].opcua.backoff_initial_s", 0.01, 3600, S),
    ("machines[1].opcua.backoff_max_s", 0.01, 3600, S),
    ("machines[1].tags.state.index", 0, 2**31 - 1, "a whole number"),
    ("machines[1].tags.state.scale", -1e12, 1e12, "a number"),
    ("machines[1].tags.state.offset", -1e12, 1e12, "a number"),
    ("mqtt.port", 1, 65535, "a whole number"),
    ("mqtt.keepalive_s", 5, 65535, "a whole number of seconds"),
    ("mqtt.reconnect_min_s", 0.01, 3600, S),
    ("mqtt.reconnect_max_s", 0.01, 3600, S),
    ("mqtt.max_inflight", 1, 65535, "a whole number"),
    ("sqlite.retention_days", 1, 36500, "a number of days"),
    ("sqlite.tag_retention_days", 1, 36500, "a number of days"),
    ("outbox.max_mb", 1, 2**20, "a number of MB"),
    ("outbox.stop_flush_s", 0, 600, S),
    ("api.port", 1, 65535, "a whole number"),
    ("oee.publish_interval_s", 0.1, 3600, S),
]
INFLUX = [
    ("influxdb.batch_size", 1, 100000, "a whole number of lines"),
    ("influxdb.flush_interval_s", 0.01, 3600, S),
    ("influxdb.timeout_s", 0.01, 300, S),
]


def steps(path: str) -> list[str | int]:
    """'machines[0].tags.code.address' -> ['machines', 0, 'tags', 'code', 'address']."""
    out: list[str | int] = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        out.append(name)
        if index:
            out.append(int(index.rstrip("]")))
    return out


# A minimum and its maximum: one at either end of its range takes the other along.
PARTNERS = {
    "backoff_initial_s": "backoff_max_s",
    "backoff_max_s": "backoff_initial_s",
    "reconnect_min_s": "reconnect_max_s",
    "reconnect_max_s": "reconnect_min_s",
}


def with_value(path: str, value: object, base: dict[str, Any] = BASE) -> str:
    data = copy.deepcopy(base)
    *parents, last = steps(path)
    node: Any = data
    for part in parents:
        node = node[part]
    node[last] = value
    return yaml.safe_dump(data)


def issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(text, "t.yaml", {})
    return [str(i) for i in e.value.issues]


def show(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:.12g}"


def below_and_above(low: float, high: float, whole: bool) -> list[float]:
    step = 1 if whole else max(abs(low), abs(high)) * 1e-3
    return [low - step, high + step] if whole else [low - step, high * 2 or 1]


@pytest.mark.parametrize(("path", "low", "high", "what"), RANGES + INFLUX)
def test_each_number_has_its_range(path: str, low: float, high: float, what: str) -> None:
    base = {**BASE, "influxdb": {"url": "http://db:8086"}} if path.startswith("influx") else BASE
    whole = what.startswith("a whole")
    section, _, name = path.rpartition(".")
    for ok in (low, high):
        if name in PARTNERS:
            base = yaml.safe_load(with_value(f"{section}.{PARTNERS[name]}", ok, base))
        if path.endswith("address"):  # 65536 is the last register in 1-based addressing
            base = yaml.safe_load(
                with_value(f"{section.rpartition('.tags')[0]}.modbus.addressing", int(ok > 0), base)
            )
            base["machines"][0]["tags"]["speed"]["address"] = 1
        parse_config(with_value(path, int(ok) if whole else ok, base), "t.yaml", {})
    for bad in below_and_above(low, high, whole):
        if path.endswith("scale") and bad == 0:
            continue
        expected = (
            f"{path}: {show(bad)} is out of range: write {what} from {show(low)} to {show(high)}"
        )
        assert issues(with_value(path, int(bad) if whole else bad, base)) == [expected]


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e400", "-1e400"])
def test_no_number_is_infinite_or_nan(value: str) -> None:
    text = with_value("machines[0].modbus.poll_interval_s", 1.5).replace("1.5", value)
    shown = {".inf": "inf", "-.inf": "-inf", ".nan": "nan", "1e400": "inf", "-1e400": "-inf"}
    assert issues(text) == [
        f"machines[0].modbus.poll_interval_s: {shown[value]} is out of range: write a number of "
        "seconds from 0.01 to 3600"
    ]


def test_a_scale_of_zero_is_refused() -> None:
    assert issues(with_value("machines[0].tags.code.scale", 0)) == [
        "machines[0].tags.code.scale: 0 would turn every value into 0: write the factor, e.g. 0.1"
    ]


@pytest.mark.parametrize(
    ("tag", "addressing", "message"),
    [
        ({"address": 65532, "type": "float64"}, 0, None),
        ({"address": 65533, "type": "float64"}, 1, None),
        (
            {"address": 65535, "type": "float64"},
            0,
            "a float64 at 65535 spans 4 registers, past the last Modbus address 65535: its "
            "address can be 65532 at most",
        ),
        ({"address": 65535, "type": "uint32"}, 1, None),
        (
            {"address": 65536, "type": "uint32"},
            1,
            "a uint32 at 65536 spans 2 registers, past the last Modbus address 65536: its "
            "address can be 65535 at most",
        ),
        ({"address": 65536}, 0, "65536 is past the last Modbus address 65535"),
        ({"address": 65536, "table": "coil"}, 0, "65536 is past the last Modbus address 65535"),
        ({"address": 0}, 1, "address 0 does not exist with 1-based addressing (addressing: 1)"),
        (
            {"address": 0, "type": "string", "length": 100},
            0,
            "spans 100 registers, more than one read allows (64)",
        ),
    ],
)
def test_a_modbus_tag_fits_the_register_space(
    tag: dict[str, Any], addressing: int, message: str | None
) -> None:
    base = copy.deepcopy(BASE)
    base["machines"][0]["modbus"] |= {"addressing": addressing, "max_registers_per_read": 64}
    base["machines"][0]["tags"]["code"]["address"] = 1
    text = with_value("machines[0].tags.speed", tag, base)
    if message is None:
        parse_config(text, "t.yaml", {})
    else:
        assert issues(text) == [f"machines[0].tags.speed.address: {message}"]


@pytest.mark.parametrize(
    ("section", "low", "high"),
    [
        ("machines[0].modbus", "backoff_initial_s", "backoff_max_s"),
        ("machines[1].opcua", "backoff_initial_s", "backoff_max_s"),
        ("mqtt", "reconnect_min_s", "reconnect_max_s"),
    ],
)
def test_a_minimum_is_not_above_its_maximum(section: str, low: str, high: str) -> None:
    text = with_value(f"{section}.{high}", 2, yaml.safe_load(with_value(f"{section}.{low}", 60)))
    assert issues(text) == [f"{section}: {low} (60) is above {high} (2): make {low} the smaller"]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("30s", "'30s' is out of range: a window is 1m to 7d long, or shift or day"),
        ("8d", "'8d' is out of range: a window is 1m to 7d long, or shift or day"),
        (
            "99999999999999d",
            "'99999999999999d' is out of range: a window is 1m to 7d long, or shift or day",
        ),  # fmt: skip
    ],
)
def test_a_window_is_a_minute_to_a_week(window: str, message: str) -> None:
    assert issues(with_value("oee.windows", ["1h", window])) == [f"oee.windows: {message}"]
    parse_config(with_value("oee.windows", ["1m", "7d"]), "t.yaml", {})


def test_the_store_keeps_the_longest_window() -> None:
    text = with_value(
        "oee.windows", ["1h", "3d"], yaml.safe_load(with_value("sqlite", {"retention_days": 2}))
    )
    assert issues(text) == [
        "sqlite.retention_days: 2 days keep less than the longest OEE window (3 days), whose "
        "figures would miss history after a restart: keep it longer"
    ]
    influx = {**yaml.safe_load(text), "influxdb": {"url": "http://db:8086"}}
    parse_config(yaml.safe_dump(influx), "t.yaml", {})  # InfluxDB keeps its own history


@pytest.mark.parametrize("key", ["a", "0123456789abcde", "   0123456789abcde   "])
def test_an_api_key_has_16_characters(key: str) -> None:
    message = "the key is shorter than 16 characters: make one with `openssl rand -hex 16`"
    got = issues(with_value("api", {"api_key": key, "keys": [{"name": "v", "key": key + "x"}]}))
    assert got[0] == f"api.api_key: {message}"
    assert (got[1:] == [f"api.keys[0].key: {message}"]) == (len(key.strip()) < 15)
    assert len(key.strip()) == 1 or not any(key.strip() in line for line in got)
    parse_config(with_value("api", {"api_key": KEY}), "t.yaml", {})


def test_ids_are_short() -> None:
    assert issues(with_value("machines[0].id", "m" * 65)) == [
        "machines[0].id: String should have at most 64 characters"
    ]


def test_codes_fit_64_bits() -> None:
    text = with_value("machines[0].state_rules[0].map", {2**63: "running"})
    assert issues(text) == [
        "machines[0].state_rules[0].map[9223372036854775808]: 9223372036854775808 is out "
        "of range: write a whole number from -9223372036854775808 to 9223372036854775807"
    ]


# The values of issue 15, in one file, as `oee-edge check` prints them.
SECONDS = "is out of range: write a number of seconds from"
FOUND = {
    "machines[0].ideal_cycle_s": ("1e400", f"inf {SECONDS} 0.001 to 86400"),
    "machines[0].modbus.poll_interval_s": (".inf", f"inf {SECONDS} 0.01 to 3600"),
    "machines[0].modbus.timeout_s": ("1e308", f"1e+308 {SECONDS} 0.01 to 60"),
    "machines[2].tags.speed": (
        "{address: 65535, type: float64}",
        "a float64 at 65535 spans 4 registers, past the last Modbus address 65535: its address "
        "can be 65532 at most",
    ),
    "oee.publish_interval_s": ("0.0001", f"0.0001 {SECONDS} 0.1 to 3600"),
    "api.api_key": (
        '"a"',
        "the key is shorter than 16 characters: make one with `openssl rand -hex 16`",
    ),
}


def test_check_refuses_the_values_of_the_issue(tmp_path: Path) -> None:
    # The float64 in a machine of its own: pydantic checks a machine's tags against its
    # connection only once each field of that machine is valid.
    text = yaml.safe_dump(
        {
            **BASE,
            "machines": [*BASE["machines"], {**copy.deepcopy(BASE["machines"][0]), "id": "m3"}],
        }
    )
    for path, (value, _) in FOUND.items():
        text = yaml.safe_dump(yaml.safe_load(with_value(path, "PLACEHOLDER", yaml.safe_load(text))))
        text = text.replace("PLACEHOLDER", value)
    config = tmp_path / "found.yaml"
    config.write_text(text)
    r = subprocess.run([OEE_EDGE, "check", str(config)], capture_output=True, text=True, timeout=30)
    where = {"machines[2].tags.speed": "machines[2].tags.speed.address"}
    got = sorted(r.stderr.splitlines()[1:])
    assert (r.returncode, r.stdout, r.stderr.splitlines()[0]) == (
        1, "", f"{config}: 6 problem(s) in the configuration:"
    )  # fmt: skip
    assert got == sorted(f"  {where.get(p, p)}: {msg}" for p, (_, msg) in FOUND.items())


def test_a_deadband_is_finite_and_a_percent_at_most_100() -> None:
    assert issues(
        with_value("machines[1].tags.state.deadband", {"type": "percent", "value": 150})
    ) == [
        "machines[1].tags.state.deadband: a percent deadband is 0 to 100 (of the EURange), not 150"
    ]
    assert issues(with_value("machines[1].opcua.deadband", {"value": float("inf")})) == [
        "machines[1].opcua.deadband.value: inf is out of range: write a number from 0 to 1e+12"
    ]
