"""Scenario files: which machines a simulator process serves, and how they behave.

A scenario is YAML (schema in docs/simulator.md). Loading validates everything and
reports every problem with its field path, e.g. ``machines[1].cycle_s: must be > 0``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from simulators.model import STATE_BY_NAME, MachineParams, Segment
from simulators.opcua_settings import (
    MachineOpcua,
    OpcuaSettings,
    merge_opcua,
    parse_machine_opcua,
    parse_opcua,
)

BUNDLED_DIR = Path(__file__).parent / "scenarios"
DEFAULT_PORT = 5020
U16_MAX = 0xFFFF

# Numeric machine fields: yaml key -> (kind, lower bound, lower inclusive, upper bound).
_NUMBERS: dict[str, tuple[type, float, bool, float]] = {
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
}
_CODE_LISTS = ("products", "fault_reasons")
_MACHINE_OTHER = {"id", "unit_id", "port", "ideal_cycle_s", "script", "description", "opcua"}
_TOP_KEYS = {"name", "description", "seed", "time_scale", "host", "port", "machines", "opcua"}
_SEGMENT_KEYS = {"state", "for_s", "reason", "product"}


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message lists every problem found."""


@dataclass(frozen=True)
class MachineSpec:
    """One machine of a scenario."""

    id: str
    unit_id: int
    params: MachineParams
    seed: str  # per-machine seed derived from the scenario seed and the id
    port: int | None = None  # own port; None = the scenario's port
    opcua: MachineOpcua = field(default_factory=MachineOpcua)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario."""

    name: str
    seed: int
    time_scale: float
    host: str
    port: int
    machines: tuple[MachineSpec, ...]
    opcua: OpcuaSettings = field(default_factory=OpcuaSettings)

    def with_overrides(
        self,
        *,
        port: int | None = None,
        time_scale: float | None = None,
        host: str | None = None,
        opcua: Mapping[str, Any] | None = None,
        namespace_shift: int = 0,
    ) -> Scenario:
        """A copy with the CLI overrides applied (machines' own ports are kept).

        `opcua` takes the keys of the scenario's ``opcua`` mapping (see
        `simulators.opcua_settings.merge_opcua` for how they combine); `namespace_shift`
        registers that many dummy namespaces before the simulator's.
        """
        if time_scale is not None and not time_scale > 0:
            raise ScenarioError(f"time_scale: must be > 0 (got {time_scale})")
        if port is not None and not 0 <= port <= 65535:
            raise ScenarioError(f"port: must be 0..65535 (got {port})")
        errors: list[str] = []
        settings = merge_opcua(self.opcua, opcua, errors, namespace_shift=namespace_shift)
        if settings is None:
            raise ScenarioError("invalid OPC UA options:\n  " + "\n  ".join(errors))
        return replace(
            self,
            port=self.port if port is None else port,
            time_scale=self.time_scale if time_scale is None else time_scale,
            host=self.host if host is None else host,
            opcua=settings,
        )

    @property
    def opcua_machines(self) -> tuple[MachineSpec, ...]:
        """The machines served over OPC UA (all but those with ``opcua.enabled: false``)."""
        return tuple(m for m in self.machines if m.opcua.enabled)


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    """A path as given if it exists, else a bundled scenario by name (``demo``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = BUNDLED_DIR / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    names = ", ".join(sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml")))
    raise ScenarioError(f"{name_or_path}: no such file and no bundled scenario (have: {names})")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Read and validate a scenario file or bundled scenario name."""
    path = resolve_scenario_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: invalid YAML: {exc}") from exc
    return parse_scenario(data, source=str(path), default_name=path.stem, base_dir=path.parent)


def parse_scenario(
    data: Any, source: str = "<scenario>", default_name: str = "", base_dir: Path | None = None
) -> Scenario:
    """Validate already-parsed scenario data; raise ScenarioError listing all problems.

    Relative file paths in it (``opcua.user_certificates``) are resolved against
    `base_dir` (the scenario file's folder), else the working directory.
    """
    v = _Validator(base_dir)
    scenario = v.scenario(data, default_name)
    if v.errors or scenario is None:
        raise ScenarioError(f"{source}: invalid scenario:\n  " + "\n  ".join(v.errors))
    return scenario


class _Validator:
    """Collects errors with field paths while building the scenario."""

    def __init__(self, base_dir: Path | None = None) -> None:
        self.errors: list[str] = []
        self.base_dir = base_dir

    def err(self, path: str, msg: str) -> None:
        self.errors.append(f"{path}: {msg}")

    def unknown(self, path: str, data: Mapping[str, Any], allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                self.err(f"{path}{key}", "unknown field")

    def number(self, path: str, value: Any, spec: tuple[type, float, bool, float]) -> Any:
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
        if not isinstance(value, Mapping):
            self.err(path or "scenario", f"must be a mapping (got {type(value).__name__})")
            return None
        return value

    def scenario(self, data: Any, default_name: str) -> Scenario | None:
        top = self.mapping("", data)
        if top is None:
            return None
        self.unknown("", top, _TOP_KEYS)
        seed = self.number("seed", top.get("seed", 0), (int, -math.inf, True, math.inf))
        scale = self.number("time_scale", top.get("time_scale", 1.0), (float, 0, False, math.inf))
        port = self.number("port", top.get("port", DEFAULT_PORT), (int, 0, True, 65535))
        host = top.get("host", "127.0.0.1")
        if not isinstance(host, str) or not host:
            self.err("host", f"must be a non-empty string (got {host!r})")
        machines = top.get("machines")
        if not isinstance(machines, list) or not machines:
            self.err("machines", "must be a non-empty list")
            return None
        specs = [self.machine(f"machines[{i}]", m, seed) for i, m in enumerate(machines)]
        self.unique(specs)
        opcua = parse_opcua(top.get("opcua"), self.errors, self.base_dir)
        if self.errors or opcua is None:
            return None
        return Scenario(
            name=str(top.get("name", default_name or "scenario")),
            seed=seed,
            time_scale=scale,
            host=host,
            port=port,
            machines=tuple(s for s in specs if s is not None),
            opcua=opcua,
        )

    def unique(self, specs: list[MachineSpec | None]) -> None:
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
        m = self.mapping(path, data)
        if m is None:
            return None
        self.unknown(f"{path}.", m, set(_NUMBERS) | set(_CODE_LISTS) | _MACHINE_OTHER)
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
        before = len(self.errors)
        kwargs: dict[str, Any] = {}
        if "cycle_s" in m and "ideal_cycle_s" in m:
            self.err(f"{path}.ideal_cycle_s", "give cycle_s or ideal_cycle_s, not both")
        elif "ideal_cycle_s" in m:
            kwargs["cycle_s"] = self.number(
                f"{path}.ideal_cycle_s", m["ideal_cycle_s"], _NUMBERS["cycle_s"]
            )
        for key, spec in _NUMBERS.items():
            if key in m:
                kwargs[key] = self.number(f"{path}.{key}", m[key], spec)
        for key in _CODE_LISTS:
            if key in m:
                kwargs[key] = self.codes(f"{path}.{key}", m[key])
        if "script" in m:
            kwargs["script"] = self.script(f"{path}.script", m["script"])
        return kwargs if len(self.errors) == before else None

    def codes(self, path: str, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not value:
            self.err(path, "must be a non-empty list of integers")
            return ()
        spec = (int, 0, True, U16_MAX)
        return tuple(self.number(f"{path}[{i}]", c, spec) for i, c in enumerate(value))

    def script(self, path: str, value: Any) -> tuple[Segment, ...]:
        if not isinstance(value, list) or not value:
            self.err(path, "must be a non-empty list of segments")
            return ()
        segments = []
        for i, raw in enumerate(value):
            seg = self.segment(f"{path}[{i}]", raw, last=i == len(value) - 1)
            if seg is not None:
                segments.append(seg)
        return tuple(segments)

    def segment(self, path: str, raw: Any, last: bool) -> Segment | None:
        data = self.mapping(path, raw)
        if data is None:
            return None
        self.unknown(f"{path}.", data, _SEGMENT_KEYS)
        raw_state = data.get("state")
        state = STATE_BY_NAME.get(raw_state) if isinstance(raw_state, str) else None
        if state is None:
            names = "|".join(STATE_BY_NAME)
            self.err(f"{path}.state", f"must be one of {names} (got {raw_state!r})")
        if "for_s" not in data and not last:
            self.err(f"{path}.for_s", "required (only the last segment may omit it)")
        for_s = self.number(f"{path}.for_s", data.get("for_s", math.inf), _NUMBERS["cycle_s"])
        reason = self.number(f"{path}.reason", data.get("reason", 0), (int, 0, True, U16_MAX))
        product = data.get("product")
        if product is not None:
            product = self.number(f"{path}.product", product, _NUMBERS["product"])
        if state is None or for_s is None or reason is None:
            return None
        return Segment(state=state, for_s=for_s, reason=reason, product=product)
