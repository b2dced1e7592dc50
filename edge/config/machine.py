"""A machine's configuration (`machines[]`): where it sits, its connection (Modbus or
OPC UA), its tags, and how they make states and counts (`edge.config.rules`)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from connectors.modbus.config import ModbusConnection, ModbusTag
from connectors.opcua.config import OpcUaConnection, OpcUaTag
from core.config import INT64, Model, within
from edge.config.oee import CalendarConfig, Problem, ReasonConfig, raise_problems
from edge.config.operator import ScrapReasonConfig
from edge.config.rules import (
    BoolRule,
    CodeMapRule,
    CountersConfig,
    IdealCycle,
    ProductConfig,
    StateRule,
)
from edge.config.targets import TargetsConfig
from oee.states import MachineState

__all__ = ["ID_PATTERN", "Identifier", "MachineConfig", "TagConfig"]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_ID = ID_PATTERN
#: An id of the gateway, a site, an area, a line or a machine: part of every MQTT topic
#: (at most 65535 bytes) and InfluxDB series, so short.
Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]


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


class MachineConfig(Model):
    """One machine: where it sits, how to read it, how to turn tags into states and counts."""

    id: Identifier
    name: str | None = None
    area: Identifier | None = None
    line: Identifier | None = None
    modbus: ModbusConnection | None = None
    opcua: OpcUaConnection | None = None
    tags: dict[str, TagConfig]
    state_rules: list[StateRule] = Field(default_factory=list)
    default_state: MachineState = MachineState.IDLE
    counters: CountersConfig | None = None
    product_tag: str | None = None
    order_tag: str | None = Field(
        default=None, description="a tag holding the id of the order running now (empty/0: none)"
    )
    ideal_cycle_s: IdealCycle
    products: dict[str, ProductConfig] = Field(default_factory=dict)
    # A stop longer than an hour is no micro stop.
    micro_stop_s: Annotated[float, within(0, 3600, "seconds")] = 0.0
    startup_s: Annotated[float, within(0, 86400, "seconds")] = Field(
        default=0.0, description="rejects this long after a setup are start-up rejects"
    )
    calendar: CalendarConfig | None = Field(
        default=None, description="replaces the line's or plant's calendar"
    )
    reasons: dict[INT64, ReasonConfig] = Field(
        default_factory=dict, description="reason code -> entry; overrides the plant's"
    )
    scrap_reasons: dict[INT64, ScrapReasonConfig] = Field(
        default_factory=dict, description="reject reason code -> entry; overrides the plant's"
    )
    publish_tags: bool = False
    targets: TargetsConfig | None = Field(
        default=None, description="per shift name or per product; default: the ideal rate"
    )

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

    @model_validator(mode="after")
    def _tags_fit_the_register_space(self) -> MachineConfig:
        if self.modbus is None:
            return self
        problems: list[Problem] = [
            (("tags", name, "address"), problem)
            for name, tag in self.modbus_tags.items()
            if (problem := self.modbus.span_problem(tag)) is not None
        ]
        raise_problems("MachineConfig", problems)
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
        refs: list[tuple[str, str | None]] = [
            ("product_tag", self.product_tag),
            ("order_tag", self.order_tag),
        ]
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
