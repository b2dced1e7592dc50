"""The configuration's root model (`Config`) and a machine's (`MachineConfig`: its
connection, tags, state rules, counters and products), in pydantic v2. Loading, `${ENV}`
secrets and error formatting live in `edge.config.loading`; these models only describe
and validate the shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from connectors.influxdb.config import InfluxConfig
from connectors.modbus.config import ModbusConnection, ModbusTag
from connectors.mqtt.config import MqttConfig
from connectors.opcua.config import (
    OpcUaConnection,
    OpcUaTag,
)
from connectors.sqlite.config import SqliteConfig
from core.config import Model
from edge.config.api import ApiConfig
from edge.config.oee import (
    DEFAULT_CALENDAR,
    CalendarConfig,
    LineConfig,
    OeeConfig,
    Problem,
    ReasonConfig,
    line_problems,
    raise_problems,
    window_problems,
)
from oee.calendar import Calendar
from oee.states import MachineState

__all__ = [
    "BoolRule",
    "CodeMapRule",
    "Config",
    "CounterConfig",
    "CounterRule",
    "CountersConfig",
    "GatewayConfig",
    "MachineConfig",
    "OutboxConfig",
    "ProductConfig",
    "StateRule",
    "TagConfig",
]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


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
    """Any two of total/good/reject (the third is derived), or total alone (all good).

    A counter movement above `suspect_floor` + `suspect_factor` x what the machine's
    fastest ideal cycle allows in the time since the last reading is held as suspect,
    out of every figure, until accepted or discarded through the API."""

    total: CounterConfig | None = None
    good: CounterConfig | None = None
    reject: CounterConfig | None = None
    suspect_factor: float = Field(
        default=2.0, ge=1, le=100, description="how much faster than its ideal a machine may count"
    )
    suspect_floor: int = Field(
        default=10, ge=0, le=1_000_000, description="parts always allowed between two readings"
    )

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
    startup_s: float = Field(
        default=0.0, ge=0, description="rejects this long after a setup are start-up rejects"
    )
    calendar: CalendarConfig | None = Field(
        default=None, description="replaces the line's or plant's calendar"
    )
    reasons: dict[int, ReasonConfig] = Field(
        default_factory=dict, description="reason code -> entry; overrides the plant's"
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


class GatewayConfig(Model):
    id: str = Field(pattern=_ID)
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: one human-readable line per record; json: one JSON object per "
        "line (ts, level, logger, msg, exc, extra fields) for log shippers",
    )


class OutboxConfig(Model):
    """The durable outbox in front of MQTT and InfluxDB (see `edge.outbox`)."""

    path: Path | None = Field(default=None, description="default: {data_dir}/outbox.sqlite")
    max_mb: float = Field(
        default=1024, gt=0, description="disk limit; then raw tags go first, events last"
    )
    stop_flush_s: float = Field(
        default=5.0,
        ge=0,
        description="at a graceful stop, deliver what waits for at most this long; the "
        "rest stays in the outbox for the next start",
    )


_NO_LINE = LineConfig()


class Config(Model):
    """The whole gateway configuration (one YAML file)."""

    gateway: GatewayConfig
    site: str = Field(pattern=_ID)
    area: str = Field(pattern=_ID)
    line: str = Field(pattern=_ID)
    machines: list[MachineConfig] = Field(min_length=1)
    calendar: CalendarConfig | None = Field(
        default=None, description="the plant's calendar; without any, a line runs 24/7 in UTC"
    )
    lines: dict[str, LineConfig] = Field(default_factory=dict)
    reasons: dict[int, ReasonConfig] = Field(
        default_factory=dict, description="the plant-wide reason tree, shared by every machine"
    )
    mqtt: MqttConfig | None = None
    influxdb: InfluxConfig | None = None
    sqlite: SqliteConfig | None = None
    outbox: OutboxConfig = OutboxConfig()
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

    @model_validator(mode="after")
    def _oee_model(self) -> Config:
        members = {line: self.line_machines(line) for line in self.lines_in_use()}
        problems = line_problems(self.lines, members) + self._one_area_per_line()
        raise_problems("Config", problems + window_problems(self.oee.windows, self._calendars()))
        return self

    def _one_area_per_line(self) -> list[Problem]:
        # Line OEE is published under the line's area; a line split across areas
        # would publish one line under two paths.
        first: dict[str, tuple[int, str]] = {}
        problems: list[Problem] = []
        for i, m in enumerate(self.machines):
            line, area = m.line or self.line, m.area or self.area
            j, seen = first.setdefault(line, (i, area))
            if seen != area:
                msg = (
                    f"line '{line}' is in area '{seen}' (machines[{j}]); a line sits in one "
                    f"area: give this machine area '{seen}' or another line"
                )
                problems.append((("machines", i, "area"), msg))
        return problems

    def _calendars(self) -> Iterator[CalendarConfig | None]:
        yield self.calendar
        yield from (line.calendar for line in self.lines.values())
        yield from (m.calendar for m in self.machines)

    def machine(self, machine_id: str) -> MachineConfig:
        """The machine with this id (KeyError if there is none)."""
        # A scan, not a cached index: `model_copy(update={"machines": ...})` (edge.cli.demo)
        # would leave an index stale, and a gateway has tens of machines, not thousands.
        for m in self.machines:
            if m.id == machine_id:
                return m
        raise KeyError(f"no machine '{machine_id}' in the configuration")

    def line_of(self, machine_id: str) -> str:
        """The line a machine sits on: its own `line`, else the top-level `line`."""
        return self.machine(machine_id).line or self.line

    def lines_in_use(self) -> list[str]:
        """Every line some machine sits on, in the order of `machines`."""
        return list(dict.fromkeys(m.line or self.line for m in self.machines))

    def line_machines(self, line: str) -> list[str]:
        """Ids of the machines on `line`, in the order of `machines` (empty if none)."""
        return [m.id for m in self.machines if (m.line or self.line) == line]

    def calendar_for(self, machine_id: str) -> Calendar:
        """The machine's calendar, else its line's, else the plant's, else 24/7 in UTC."""
        line = self.lines.get(self.line_of(machine_id), _NO_LINE)
        for c in (self.machine(machine_id).calendar, line.calendar, self.calendar):
            if c is not None:
                return c.to_calendar()
        return DEFAULT_CALENDAR

    def reasons_for(self, machine_id: str) -> dict[int, ReasonConfig]:
        """The plant's reason tree with the machine's own entries (they win on equal codes)."""
        return {**self.reasons, **self.machine(machine_id).reasons}
