"""Scenario files: which machines a simulator process serves, and how they behave.

A scenario is YAML (schema in docs/simulator.md). Loading validates everything and
reports every problem with its field path, e.g. ``machines[1].cycle_s: must be > 0``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from simulators.clock import sim_time_at
from simulators.machines import MachineChecker, MachineSpec
from simulators.model import MachineModel
from simulators.opcua_settings import OpcuaSettings, merge_opcua, parse_opcua

__all__ = [
    "MAX_SCENARIO_BYTES",
    "MachineSpec",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "resolve_scenario_path",
]

BUNDLED_DIR = Path(__file__).parent / "scenarios"
DEFAULT_PORT = 5020
#: A scenario file larger than this is refused before it is read whole or parsed, like a
#: gateway config (edge.config.reading.MAX_CONFIG_BYTES); the bundled ones are ~2 KB.
MAX_SCENARIO_BYTES = 4 * 1024 * 1024
_TOP_KEYS = {"name", "description", "seed", "time_scale", "host", "port", "machines", "opcua"}


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; the message lists every problem found."""


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
    epoch: float | None = None  # Unix time of sim time 0; None = when a server starts

    def with_overrides(
        self,
        *,
        port: int | None = None,
        time_scale: float | None = None,
        host: str | None = None,
        opcua: Mapping[str, Any] | None = None,
        namespace_shift: int = 0,
        epoch: float | None = None,
    ) -> Scenario:
        """A copy with the CLI overrides applied (machines' own ports are kept).

        `opcua` takes the keys of the scenario's ``opcua`` mapping (see
        `simulators.opcua_settings.merge_opcua` for how they combine); `namespace_shift`
        registers that many dummy namespaces before the simulator's. `epoch` (Unix
        seconds) pins sim time 0 to a wall-clock moment (see `sim_time_at`); one in the
        future is an error.
        """
        if time_scale is not None and not time_scale > 0:
            raise ScenarioError(f"time_scale: must be > 0 (got {time_scale})")
        if port is not None and not 0 <= port <= 65535:
            raise ScenarioError(f"port: must be 0..65535 (got {port})")
        if epoch is not None:
            _check_epoch(epoch)
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
            epoch=self.epoch if epoch is None else float(epoch),
        )

    def machine(self, machine_id: str) -> MachineSpec:
        """The machine with this id; KeyError if there is none."""
        for spec in self.machines:
            if spec.id == machine_id:
                return spec
        raise KeyError(f"scenario {self.name!r} has no machine {machine_id!r}")

    def model(self, machine_id: str, *, history_size: int | None = 1000) -> MachineModel:
        """A fresh model of that machine at sim time 0, built exactly as the servers
        build theirs (same params, same seed): advanced to a sim time, it shows what a
        server showed at that sim time. `history_size=None` keeps every transition."""
        spec = self.machine(machine_id)
        return MachineModel(spec.params, spec.seed, history_size=history_size)

    def sim_time_at(self, wall: float) -> float:
        """The sim time a server with this scenario's epoch shows at Unix time `wall`
        (0 before the epoch); ValueError when no epoch is set."""
        if self.epoch is None:
            raise ValueError(f"scenario {self.name!r} has no epoch")
        return sim_time_at(wall, self.epoch, self.time_scale)

    @property
    def opcua_machines(self) -> tuple[MachineSpec, ...]:
        """The machines served over OPC UA (all but those with ``opcua.enabled: false``)."""
        return tuple(m for m in self.machines if m.opcua.enabled)


def _check_epoch(epoch: float) -> None:
    if isinstance(epoch, bool) or not isinstance(epoch, int | float) or not math.isfinite(epoch):
        raise ScenarioError(f"epoch: must be a finite number of Unix seconds (got {epoch!r})")
    now = time.time()
    if epoch > now:
        # Refused rather than clamped: a run that starts later than asked would not
        # serve what the test computes from the epoch.
        raise ScenarioError(f"epoch: must not be in the future (got {epoch}, now {now:.3f})")


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
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: invalid YAML: {exc}") from exc
    return parse_scenario(data, source=str(path), default_name=path.stem, base_dir=path.parent)


def _read_text(path: Path) -> str:
    """The file's text, read no further than `MAX_SCENARIO_BYTES` (a wrong path to a
    huge log or image must not fill the memory). Raises ScenarioError."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"{path}: larger than {MAX_SCENARIO_BYTES // 2**20} MiB; a scenario is a few "
            "kilobytes of YAML: check the path"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"{path}: line {line}: not UTF-8 text") from None


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


class _Validator(MachineChecker):
    """Collects errors with field paths while building the scenario."""

    def __init__(self, base_dir: Path | None = None) -> None:
        super().__init__()
        self.base_dir = base_dir

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
