"""Configuration models (pydantic v2). Loading, `${ENV}` secrets and error formatting live
in `edge.loading`; these models only describe and validate the shape.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    field_validator,
    model_validator,
)

from oee.states import MachineState

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(text: str) -> float:
    """`'15m'` -> 900.0 seconds. Accepts s, m, h, d suffixes."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a duration: write e.g. 30s, 15m, 1h or 1d")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


# --------------------------------------------------------------------------- TLS / secrets


class TlsConfig(Model):
    """TLS for a client connection. With none of the files set, the system CA store is used."""

    enabled: bool = True
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False


# --------------------------------------------------------------------------- Modbus


class RegisterTable(StrEnum):
    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE = "discrete"

    @property
    def is_bit(self) -> bool:
        return self in (RegisterTable.COIL, RegisterTable.DISCRETE)


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BIT = "bit"  # one bit of a register (with `bit`), or a coil / discrete input
    STRING = "string"

    @property
    def words(self) -> int:
        return {"int32": 2, "uint32": 2, "float32": 2, "int64": 4, "uint64": 4, "float64": 4}.get(
            self.value, 1
        )


class WordOrder(StrEnum):
    """Byte order of a multi-register value, letters naming bytes from most significant.

    ABCD big-endian (Modbus default), DCBA little-endian, BADC bytes swapped within each
    word, CDAB words swapped (common on Schneider/Siemens 32-bit values).
    """

    ABCD = "ABCD"
    DCBA = "DCBA"
    BADC = "BADC"
    CDAB = "CDAB"


class ModbusTag(Model):
    """One value read from a Modbus device."""

    table: RegisterTable = RegisterTable.HOLDING
    address: int = Field(ge=0, le=65536)
    type: DataType = DataType.UINT16
    order: WordOrder = WordOrder.ABCD
    bit: int | None = Field(default=None, ge=0, le=15)
    length: int | None = Field(default=None, ge=1, le=123, description="registers, for strings")
    scale: float = 1.0
    offset: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _bit_tables_hold_bits(cls, data: Any) -> Any:
        bit_table = isinstance(data, dict) and data.get("table") in ("coil", "discrete")
        if bit_table and data.setdefault("type", "bit") != "bit":
            raise ValueError(
                f"a {data['table']} holds single bits: use type: bit (not {data['type']})"
            )
        return data

    @model_validator(mode="after")
    def _check_shape(self) -> ModbusTag:
        if self.type is DataType.STRING and self.length is None:
            raise ValueError("a string tag needs `length` (number of registers, 2 chars each)")
        if self.type is DataType.BIT and not self.table.is_bit and self.bit is None:
            raise ValueError("type: bit on a register needs `bit` (0 = least significant)")
        return self

    @property
    def words(self) -> int:
        """Registers (or bits, for coils/discrete inputs) this tag spans."""
        if self.table.is_bit:
            return 1
        if self.type is DataType.STRING:
            assert self.length is not None
            return self.length
        return self.type.words


class ModbusConnection(Model):
    """A Modbus TCP device (one unit id behind one host:port)."""

    host: str
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    timeout_s: float = Field(default=2.0, gt=0)
    poll_interval_s: float = Field(default=1.0, gt=0)
    addressing: Literal[0, 1] = Field(
        default=0, description="1 if the addresses in `tags` are 1-based (as in many PLC manuals)"
    )
    max_registers_per_read: int = Field(default=125, ge=1, le=125)
    max_bits_per_read: int = Field(default=2000, ge=1, le=2000)
    max_gap: int = Field(
        default=16, ge=0, description="unused registers a read may span to join two tags"
    )
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)


# --------------------------------------------------------------------------- state rules


class CodeMapRule(Model):
    """`tag`'s value looked up in `map` (value -> state). Unmapped values fall through."""

    tag: str
    map: dict[int, MachineState]
    reason_tag: str | None = None


class BoolRule(Model):
    """`state` when `tag` equals `equals` (default true)."""

    tag: str
    equals: bool = True
    state: MachineState
    reason_tag: str | None = None


class CounterRule(Model):
    """`state` (default running) when `counter` advanced within the last `within_s` seconds."""

    counter: Literal["total", "good", "reject"] = "total"
    within_s: float = Field(gt=0)
    state: MachineState = MachineState.RUNNING


def _rule_kind(v: Any) -> str | None:
    if isinstance(v, BaseModel):
        return {CodeMapRule: "map", BoolRule: "bool", CounterRule: "counter"}.get(type(v))
    if not isinstance(v, dict):
        return None
    if "map" in v:
        return "map"
    if "counter" in v or "within_s" in v:
        return "counter"
    if "tag" in v:
        return "bool"
    return None


StateRule = Annotated[
    Annotated[CodeMapRule, Tag("map")]
    | Annotated[BoolRule, Tag("bool")]
    | Annotated[CounterRule, Tag("counter")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule_kind",
        custom_error_message=(
            "a state rule is one of {tag, map: {code: state}}, {tag, equals, state} "
            "or {counter, within_s}"
        ),
    ),
]


class CounterConfig(Model):
    """A PLC counter. `bits` is where it wraps (16, 32 or 64)."""

    tag: str
    bits: Literal[16, 32, 64] = 32


class CountersConfig(Model):
    """Any two of total/good/reject (the third is derived), or total alone (all good)."""

    total: CounterConfig | None = None
    good: CounterConfig | None = None
    reject: CounterConfig | None = None

    @model_validator(mode="after")
    def _two_of_three(self) -> CountersConfig:
        if self.total is None and self.good is None:
            raise ValueError("configure `total` or `good` (and optionally `reject`)")
        return self


class ProductConfig(Model):
    ideal_cycle_s: float = Field(gt=0)
    name: str | None = None


# --------------------------------------------------------------------------- machines


class MachineConfig(Model):
    """One machine: where it sits, how to read it, how to turn tags into states and counts."""

    id: str = Field(pattern=_ID)
    name: str | None = None
    area: str | None = Field(default=None, pattern=_ID)
    line: str | None = Field(default=None, pattern=_ID)
    modbus: ModbusConnection
    tags: dict[str, ModbusTag]
    state_rules: list[StateRule] = Field(default_factory=list)
    default_state: MachineState = MachineState.IDLE
    counters: CountersConfig | None = None
    product_tag: str | None = None
    ideal_cycle_s: float = Field(gt=0)
    products: dict[str, ProductConfig] = Field(default_factory=dict)
    micro_stop_s: float = Field(default=0.0, ge=0)
    reasons: dict[int, str] = Field(
        default_factory=dict, description="reason code (from a reason_tag) -> text"
    )
    publish_tags: bool = False

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, tags: dict[str, ModbusTag]) -> dict[str, ModbusTag]:
        for name in tags:
            if not re.match(_ID, name):
                raise ValueError(f"tag name '{name}' may hold only letters, digits, _ . -")
        return tags

    @model_validator(mode="after")
    def _references(self) -> MachineConfig:
        known = set(self.tags)
        refs: list[tuple[str, str | None]] = [("product_tag", self.product_tag)]
        for i, rule in enumerate(self.state_rules):
            if isinstance(rule, CodeMapRule | BoolRule):
                refs += [(f"state_rules[{i}].tag", rule.tag)]
                refs += [(f"state_rules[{i}].reason_tag", rule.reason_tag)]
            elif self.counters is None or getattr(self.counters, rule.counter) is None:
                raise ValueError(
                    f"state_rules[{i}] watches counter '{rule.counter}', "
                    "which `counters` does not define"
                )
        if self.counters:
            for kind in ("total", "good", "reject"):
                c = getattr(self.counters, kind)
                refs.append((f"counters.{kind}.tag", c.tag if c else None))
        for where, tag in refs:
            if tag is not None and tag not in known:
                raise ValueError(
                    f"{where} names tag '{tag}', which is not under `tags` "
                    f"(known: {', '.join(sorted(known)) or 'none'})"
                )
        return self


# --------------------------------------------------------------------------- sinks


class MqttConfig(Model):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    prefix: str = Field(default="oee", pattern=r"^[^#+/][^#+]*$")
    client_id: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsConfig | None = None
    keepalive_s: int = Field(default=30, ge=5)
    qos: Literal[0, 1, 2] = 1


class InfluxConfig(Model):
    url: str = Field(pattern=r"^https?://")
    api: Literal["auto", "v1", "v2"] = Field(
        default="auto", description="auto: ask /ping for X-Influxdb-Version (>= 1.8 -> v2)"
    )
    database: str = Field(default="oee", description="v1 database (and InfluxQL reads)")
    bucket: str | None = Field(default=None, description="v2 bucket; default: `database`")
    org: str = "-"
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsConfig | None = None
    batch_size: int = Field(default=500, ge=1)
    flush_interval_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=5.0, gt=0)


class SqliteConfig(Model):
    path: Path = Path("oee-edge.sqlite")


class ApiConfig(Model):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    api_key: SecretStr | None = None

    @model_validator(mode="after")
    def _loopback_unless_key(self) -> ApiConfig:
        loopback = self.host in ("127.0.0.1", "::1", "localhost")
        if not loopback and self.api_key is None:
            raise ValueError(
                f"binding the API to {self.host} needs `api_key` (from env: "
                "api_key: ${OEE_API_KEY}); without a key it may bind to 127.0.0.1 only"
            )
        return self


class OeeConfig(Model):
    windows: list[str] = Field(default_factory=lambda: ["15m", "1h"], min_length=1)
    publish_interval_s: float = Field(default=10.0, gt=0)
    offline_counts_as: Literal["unknown", "downtime"] = Field(
        default="unknown",
        description="unknown: offline time is excluded from planned time and reported apart",
    )

    @field_validator("windows")
    @classmethod
    def _windows(cls, ws: list[str]) -> list[str]:
        for w in ws:
            parse_duration(w)
        return ws


class GatewayConfig(Model):
    id: str = Field(pattern=_ID)
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(Model):
    """The whole gateway configuration (one YAML file)."""

    gateway: GatewayConfig
    site: str = Field(pattern=_ID)
    area: str = Field(pattern=_ID)
    line: str = Field(pattern=_ID)
    machines: list[MachineConfig] = Field(min_length=1)
    mqtt: MqttConfig | None = None
    influxdb: InfluxConfig | None = None
    sqlite: SqliteConfig | None = None
    api: ApiConfig = ApiConfig()
    oee: OeeConfig = OeeConfig()

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for m in self.machines:
            if m.id in seen:
                raise ValueError(f"machine id '{m.id}' is used twice; ids must be unique")
            seen.add(m.id)
        return self
