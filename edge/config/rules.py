"""A machine's state rules, counters and products (parts of `edge.config.MachineConfig`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from core.config import INT64, Model, within
from oee.states import MachineState

__all__ = [
    "BoolRule",
    "CodeMapRule",
    "CounterConfig",
    "CounterRule",
    "CountersConfig",
    "IdealCycle",
    "ProductConfig",
    "StateRule",
]

#: The ideal cycle: 1 ms (a tablet press makes a few hundred parts a second) to a day.
#: A wrong one is a false performance figure, so a typo (1e400, 0.0001) is refused.
IdealCycle = Annotated[float, within(0.001, 86400, "seconds")]


class CodeMapRule(Model):
    """`tag`'s value looked up in `map` (value -> state). Unmapped values fall through."""

    tag: str
    map: dict[INT64, MachineState]
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
    within_s: Annotated[float, within(0.01, 86400, "seconds")]
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
    suspect_factor: Annotated[float, within(1, 100)] = Field(
        default=2.0, description="how much faster than its ideal a machine may count"
    )
    suspect_floor: Annotated[int, within(0, 1_000_000, "parts")] = Field(
        default=10, description="parts always allowed between two readings"
    )

    @model_validator(mode="after")
    def _two_of_three(self) -> CountersConfig:
        if self.total is None and self.good is None:
            raise ValueError("configure `total` or `good` (and optionally `reject`)")
        return self


class ProductConfig(Model):
    ideal_cycle_s: IdealCycle
    name: str | None = None
