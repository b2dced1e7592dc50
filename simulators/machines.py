"""The ``machines:`` entries of a scenario: validation into `MachineSpec`s.

`Checker` collects every problem with its field path (``machines[1].cycle_s: must be >
0 (got 0)``) instead of stopping at the first; `MachineChecker` adds the machine,
script and segment rules. `simulators.scenario` builds on both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulators.model import STATE_BY_NAME, MachineParams, Segment
from simulators.opcua_settings import MachineOpcua, parse_machine_opcua
from simulators.registers import MAX_EXTRA_TAGS

U16_MAX = 0xFFFF

# Numeric machine fields: yaml key -> (kind, lower bound, lower inclusive, upper bound).
NUMBERS: dict[str, tuple[type, float, bool, float]] = {
    "cycle_s": (float, 0, False, math.inf),
    "reject_rate": (float, 0, True, 1),
    "reject_every": (int, 0, True, math.inf),
    "product": (int, 0, True, U16_MAX),
    "counter_start": (int, 0, True, 2**32 - 1),
    "mtbf_s": (float, 0, True, math.inf),
    "mttr_s": (float, 0, False, math.inf),
    "micro_stop_every_s": (float, 0, True, math.inf),
    "micro_stop_s": (float, 0, False, math.inf),
    "idle_reason": (int, 0, True, U16_MAX),
    "setup_every_parts": (int, 0, True, math.inf),
    "setup_s": (float, 0, False, math.inf),
    "setup_reason": (int, 0, True, U16_MAX),
    "break_every_s": (float, 0, True, math.inf),
    "break_s": (float, 0, False, math.inf),
    "break_reason": (int, 0, True, U16_MAX),
    "temp_base": (float, -math.inf, True, math.inf),
    "temp_amplitude": (float, -math.inf, True, math.inf),
    "temp_period_s": (float, 0, False, math.inf),
    "fill_mean": (float, -1e12, True, 1e12),
    "fill_sd": (float, 0, True, 1e12),
    "extra_tags": (int, 0, True, MAX_EXTRA_TAGS),
}
_CODE_LISTS = ("products", "fault_reasons")
_MACHINE_OTHER = {
    "id",
    "unit_id",
    "port",
    "ideal_cycle_s",
    "script",
    "repeat",
    "description",
    "opcua",
    "fill_drift",
}
_SEGMENT_KEYS = {"state", "for_s", "reason", "product"}


@dataclass(frozen=True)
class MachineSpec:
    """One machine of a scenario."""

    id: str
    unit_id: int
    params: MachineParams
    seed: str  # per-machine seed derived from the scenario seed and the id
    port: int | None = None  # own port; None = the scenario's port
    opcua: MachineOpcua = field(default_factory=MachineOpcua)


class Checker:
    """Collects errors with field paths while building something from YAML data."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, path: str, msg: str) -> None:
        """Record one problem at `path`."""
        self.errors.append(f"{path}: {msg}")

    def unknown(self, path: str, data: Mapping[str, Any], allowed: set[str]) -> None:
        """Report every key of `data` not in `allowed` (typos must not pass silently)."""
        for key in data:
            if key not in allowed:
                self.err(f"{path}{key}", "unknown field")

    def number(self, path: str, value: Any, spec: tuple[type, float, bool, float]) -> Any:
        """`value` as `spec`'s kind if it is in range, else None (and an error)."""
        kind, low, low_inclusive, high = spec
        ok_type = int if kind is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_type):
            self.err(path, f"must be {'an integer' if kind is int else 'a number'} (got {value!r})")
            return None
        if math.isnan(value) or value < low or (value == low and not low_inclusive):
            self.err(path, f"must be {'>=' if low_inclusive else '>'} {low} (got {value})")
        elif value > high:
            self.err(path, f"must be <= {high} (got {value})")
        return kind(value)

    def mapping(self, path: str, value: Any) -> Mapping[str, Any] | None:
        """`value` if it is a mapping, else None (and an error)."""
        if not isinstance(value, Mapping):
            self.err(path or "scenario", f"must be a mapping (got {type(value).__name__})")
            return None
        return value


class MachineChecker(Checker):
    """Validates ``machines:`` entries."""

    def unique(self, specs: list[MachineSpec | None]) -> None:
        """Machine ids are unique; unit ids are unique per port."""
        ids: set[str] = set()
        units: set[tuple[int | None, int]] = set()
        for i, spec in enumerate(specs):
            if spec is None:
                continue
            if spec.id in ids:
                self.err(f"machines[{i}].id", f"duplicate machine id {spec.id!r}")
            if (spec.port, spec.unit_id) in units:
                self.err(f"machines[{i}].unit_id", f"unit id {spec.unit_id} already used")
            ids.add(spec.id)
            units.add((spec.port, spec.unit_id))

    def machine(self, path: str, data: Any, seed: Any) -> MachineSpec | None:
        """One machine entry, or None if it has errors."""
        m = self.mapping(path, data)
        if m is None:
            return None
        self.unknown(f"{path}.", m, set(NUMBERS) | set(_CODE_LISTS) | _MACHINE_OTHER)
        mid = m.get("id")
        if not isinstance(mid, str) or not mid:
            self.err(f"{path}.id", f"must be a non-empty string (got {mid!r})")
        unit = self.number(f"{path}.unit_id", m.get("unit_id"), (int, 1, True, 247))
        port = m.get("port")
        if port is not None:
            port = self.number(f"{path}.port", port, (int, 0, True, 65535))
        kwargs = self.machine_params(path, m)
        opcua = parse_machine_opcua(m.get("opcua"), f"{path}.opcua", self.errors)
        if kwargs is None or not isinstance(mid, str) or unit is None:
            return None
        return MachineSpec(
            id=mid,
            unit_id=unit,
            params=MachineParams(**kwargs),
            seed=f"{seed}:{mid}",
            port=port,
            opcua=opcua,
        )

    def machine_params(self, path: str, m: Mapping[str, Any]) -> dict[str, Any] | None:
        """`MachineParams` keyword arguments, or None if there were errors."""
        before = len(self.errors)
        kwargs: dict[str, Any] = {}
        if "cycle_s" in m and "ideal_cycle_s" in m:
            self.err(f"{path}.ideal_cycle_s", "give cycle_s or ideal_cycle_s, not both")
        elif "ideal_cycle_s" in m:
            kwargs["cycle_s"] = self.number(
                f"{path}.ideal_cycle_s", m["ideal_cycle_s"], NUMBERS["cycle_s"]
            )
        for key, spec in NUMBERS.items():
            if key in m:
                kwargs[key] = self.number(f"{path}.{key}", m[key], spec)
        for key in _CODE_LISTS:
            if key in m:
                kwargs[key] = self.codes(f"{path}.{key}", m[key])
        repeat = m.get("repeat", False)
        if not isinstance(repeat, bool):
            self.err(f"{path}.repeat", f"must be true or false (got {repeat!r})")
        elif repeat and "script" not in m:
            self.err(f"{path}.repeat", "needs a script (random mode never ends)")
        kwargs["repeat"] = repeat is True
        if "script" in m:
            kwargs["script"] = self.script(f"{path}.script", m["script"], repeat is True)
        if "fill_drift" in m:
            kwargs.update(self.fill_drift(f"{path}.fill_drift", m["fill_drift"]))
        return kwargs if len(self.errors) == before else None

    def fill_drift(self, path: str, value: Any) -> dict[str, float]:
        """`{at_s, shift}`: the fill weight's mean moves by `shift` from sim time `at_s`."""
        data = self.mapping(path, value)
        if data is None:
            return {}
        self.unknown(f"{path}.", data, {"at_s", "shift"})
        for key in ("at_s", "shift"):
            if key not in data:
                self.err(f"{path}.{key}", "required")
        at_s = self.number(f"{path}.at_s", data.get("at_s", 0), (float, 0, True, math.inf))
        shift = self.number(f"{path}.shift", data.get("shift", 0), (float, -1e12, True, 1e12))
        return {"fill_drift_at_s": at_s, "fill_drift_shift": shift}

    def codes(self, path: str, value: Any) -> tuple[int, ...]:
        """A non-empty list of uint16 codes."""
        if not isinstance(value, list) or not value:
            self.err(path, "must be a non-empty list of integers")
            return ()
        spec = (int, 0, True, U16_MAX)
        return tuple(self.number(f"{path}[{i}]", c, spec) for i, c in enumerate(value))

    def script(self, path: str, value: Any, repeat: bool) -> tuple[Segment, ...]:
        """A non-empty list of segments."""
        if not isinstance(value, list) or not value:
            self.err(path, "must be a non-empty list of segments")
            return ()
        segments = []
        for i, raw in enumerate(value):
            seg = self.segment(f"{path}[{i}]", raw, i == len(value) - 1, repeat)
            if seg is not None:
                segments.append(seg)
        return tuple(segments)

    def segment(self, path: str, raw: Any, last: bool, repeat: bool) -> Segment | None:
        """One script segment; only the last of a non-repeating script may omit for_s."""
        data = self.mapping(path, raw)
        if data is None:
            return None
        self.unknown(f"{path}.", data, _SEGMENT_KEYS)
        raw_state = data.get("state")
        state = STATE_BY_NAME.get(raw_state) if isinstance(raw_state, str) else None
        if state is None:
            names = "|".join(STATE_BY_NAME)
            self.err(f"{path}.state", f"must be one of {names} (got {raw_state!r})")
        for_s = self.number(f"{path}.for_s", data.get("for_s", math.inf), NUMBERS["cycle_s"])
        if repeat and for_s is not None and not math.isfinite(for_s):
            self.err(f"{path}.for_s", "must be finite when repeat is true")
        elif "for_s" not in data and not last:
            self.err(f"{path}.for_s", "required (only the last segment may omit it)")
        reason = self.number(f"{path}.reason", data.get("reason", 0), (int, 0, True, U16_MAX))
        product = data.get("product")
        if product is not None:
            product = self.number(f"{path}.product", product, NUMBERS["product"])
        if state is None or for_s is None or reason is None:
            return None
        return Segment(state=state, for_s=for_s, reason=reason, product=product)
