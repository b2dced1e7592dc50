"""Configuration models (pydantic v2). Loading, `${ENV}` secrets and error formatting live
in `edge.loading`; these models only describe and validate the shape.
"""

from __future__ import annotations

import re
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

from edge.config_sources import (
    DataType,
    Deadband,
    ModbusConnection,
    ModbusTag,
    OpcUaAuth,
    OpcUaConnection,
    OpcUaSecurity,
    OpcUaTag,
    RegisterTable,
    SecurityPolicyName,
    WordOrder,
)
from oee.states import MachineState

# The connection models live in edge.config_sources; they are part of this API.
__all__ = [
    "ApiConfig",
    "BoolRule",
    "CodeMapRule",
    "Config",
    "CounterConfig",
    "CounterRule",
    "CountersConfig",
    "DataType",
    "Deadband",
    "GatewayConfig",
    "InfluxConfig",
    "MachineConfig",
    "ModbusConnection",
    "ModbusTag",
    "MqttConfig",
    "OeeConfig",
    "OpcUaAuth",
    "OpcUaConnection",
    "OpcUaSecurity",
    "OpcUaTag",
    "ProductConfig",
    "RegisterTable",
    "SecurityPolicyName",
    "SqliteConfig",
    "StateRule",
    "TagConfig",
    "TlsConfig",
    "WordOrder",
    "parse_duration",
]

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


class _OpcUaTagInput(dict[str, Any]):
    """A raw tag mapping under an OPC UA machine, so that its errors speak OPC UA."""


def _tag_kind(v: Any) -> str | None:
    if isinstance(v, BaseModel):
        return "opcua" if isinstance(v, OpcUaTag) else "modbus"
    if isinstance(v, dict):
        return "opcua" if isinstance(v, _OpcUaTagInput) or "node" in v else "modbus"
    return None


def _opcua_input(v: Any) -> Any:
    return _OpcUaTagInput(v) if isinstance(v, dict) and "address" not in v else v


TagConfig = Annotated[
    Annotated[ModbusTag, Tag("modbus")] | Annotated[OpcUaTag, Tag("opcua")],
    Discriminator(
        _tag_kind,
        custom_error_type="tag_kind",
        custom_error_message="a tag is {node: ...} (OPC UA) or {address: ...} (Modbus)",
    ),
]


# --------------------------------------------------------------------------- machines


class MachineConfig(Model):
    """One machine: where it sits, how to read it, how to turn tags into states and counts."""

    id: str = Field(pattern=_ID)
    name: str | None = None
    area: str | None = Field(default=None, pattern=_ID)
    line: str | None = Field(default=None, pattern=_ID)
    modbus: ModbusConnection | None = None
    opcua: OpcUaConnection | None = None
    tags: dict[str, TagConfig]
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

    @model_validator(mode="before")
    @classmethod
    def _opcua_tag_shorthand(cls, data: Any) -> Any:
        # Under an OPC UA machine `speed: ns=2;s=Speed` means `speed: {node: ns=2;s=Speed}`.
        if isinstance(data, dict) and (data.get("modbus") is None) == (data.get("opcua") is None):
            raise ValueError("give the machine exactly one connection: `modbus` or `opcua`")
        if isinstance(data, dict) and data.get("opcua") and isinstance(data.get("tags"), dict):
            data = dict(data)
            data["tags"] = {
                k: _OpcUaTagInput(node=v) if isinstance(v, str) else _opcua_input(v)
                for k, v in data["tags"].items()
            }
        return data

    @field_validator("tags")
    @classmethod
    def _tag_names(cls, tags: dict[str, TagConfig]) -> dict[str, TagConfig]:
        for name in tags:
            if not re.match(_ID, name):
                raise ValueError(f"tag name '{name}' may hold only letters, digits, _ . -")
        return tags

    @model_validator(mode="after")
    def _tags_fit_the_connection(self) -> MachineConfig:
        want, hint = (
            (OpcUaTag, "{node: ns=2;s=Name}") if self.opcua else (ModbusTag, "{address: 0, ...}")
        )
        for name, tag in self.tags.items():
            if not isinstance(tag, want):
                kind = "an OPC UA" if self.opcua else "a Modbus"
                raise ValueError(f"tags.{name}: {kind} machine's tags look like {hint}")
        return self

    @property
    def modbus_tags(self) -> dict[str, ModbusTag]:
        """The tags of a Modbus machine (empty for an OPC UA machine)."""
        return {k: t for k, t in self.tags.items() if isinstance(t, ModbusTag)}

    @property
    def opcua_tags(self) -> dict[str, OpcUaTag]:
        """The tags of an OPC UA machine (empty for a Modbus machine)."""
        return {k: t for k, t in self.tags.items() if isinstance(t, OpcUaTag)}

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
