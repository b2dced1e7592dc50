"""The configuration's root model (`Config`): the gateway, the plant's place, the machines
(`edge.config.machine`), the OEE model (`edge.config.oee`), the sinks and the store (the
connectors' own sections), the outbox and the API, in pydantic v2. Loading, `${ENV}`
secrets and error formatting live in `edge.config.loading`; these models only describe
and validate the shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from connectors.influxdb.config import InfluxConfig
from connectors.mqtt.config import MqttConfig
from connectors.sqlite.config import SqliteConfig
from core.config import INT64, Model, within
from edge.config.alarms import AlarmsConfig
from edge.config.api import ApiConfig
from edge.config.machine import Identifier, MachineConfig
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
    window_seconds,
)
from edge.config.operator import ScrapReasonConfig
from edge.config.orders import OrdersConfig, order_problems
from edge.config.spc import SpcConfig, chart_problems
from edge.config.targets import target_problems
from oee.calendar import Calendar

__all__ = ["Config", "GatewayConfig", "OutboxConfig"]


class GatewayConfig(Model):
    id: Identifier
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: one human-readable line per record; json: one JSON object per "
        "line (ts, level, logger, msg, exc, extra fields) for log shippers",
    )
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        default="auto",
        description="auto: uvloop where it is installed (Linux, macOS), else asyncio's own",
    )


class OutboxConfig(Model):
    """The durable outbox in front of MQTT and InfluxDB (see `edge.outbox`)."""

    path: Path | None = Field(default=None, description="default: {data_dir}/outbox.sqlite")
    # 1 MB to 1 TB: a limit of 1e308 MB is no limit, one of 0.001 MB holds nothing.
    max_mb: Annotated[float, within(1, 2**20, "MB")] = Field(
        default=1024, description="disk limit; then raw tags go first, events last"
    )
    # Up to 10 minutes: a service manager kills a stop that takes longer (systemd: 90 s).
    stop_flush_s: Annotated[float, within(0, 600, "seconds")] = Field(
        default=5.0,
        description="at a graceful stop, deliver what waits for at most this long; the "
        "rest stays in the outbox for the next start",
    )


_NO_LINE = LineConfig()


class Config(Model):
    """The whole gateway configuration (one YAML file)."""

    gateway: GatewayConfig
    site: Identifier
    area: Identifier
    line: Identifier
    machines: list[MachineConfig] = Field(min_length=1)
    calendar: CalendarConfig | None = Field(
        default=None, description="the plant's calendar; without any, a line runs 24/7 in UTC"
    )
    lines: dict[str, LineConfig] = Field(default_factory=dict)
    reasons: dict[int, ReasonConfig] = Field(
        default_factory=dict, description="the plant-wide reason tree, shared by every machine"
    )
    scrap_reasons: dict[INT64, ScrapReasonConfig] = Field(
        default_factory=dict, description="the plant-wide reject-reason tree (booked scrap)"
    )
    mqtt: MqttConfig | None = None
    influxdb: InfluxConfig | None = None
    sqlite: SqliteConfig | None = None
    outbox: OutboxConfig = OutboxConfig()
    api: ApiConfig = ApiConfig()
    oee: OeeConfig = OeeConfig()
    alarms: AlarmsConfig = AlarmsConfig()
    spc: SpcConfig = SpcConfig()
    orders: OrdersConfig = OrdersConfig()

    @property
    def sqlite_path(self) -> Path:
        """The embedded store's file: `sqlite.path`, else `{gateway.data_dir}/oee.sqlite`
        (also when a `sqlite:` section sets only retentions)."""
        given = self.sqlite.path if self.sqlite is not None else None
        return given or self.gateway.data_dir / "oee.sqlite"

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

    @model_validator(mode="after")
    def _alarm_rules_fit(self) -> Config:
        machines = {m.id for m in self.machines}
        charts = {c.id for c in self.spc.charts}
        lines = set(self.lines_in_use())
        found = self.alarms.problems(machines, lines, list(self.oee.windows), charts)
        raise_problems("Config", found)
        return self

    @model_validator(mode="after")
    def _charts_fit_the_machines(self) -> Config:
        machines = {m.id: m for m in self.machines}
        scrap = {m.id: self.scrap_reasons_for(m.id) for m in self.machines}
        raise_problems("Config", chart_problems(self.spc.charts, machines, scrap))
        return self

    @model_validator(mode="after")
    def _orders_fit_the_machines(self) -> Config:
        raise_problems("Config", order_problems(self.orders, {m.id for m in self.machines}))
        return self

    @model_validator(mode="after")
    def _store_keeps_the_windows(self) -> Config:
        # The embedded store is what the engines replay at a start: a retention shorter
        # than a window would make that window's figures after a restart miss history.
        keep = self.sqlite.retention_days if self.sqlite is not None else None
        longest = max((s for w in self.oee.windows if (s := window_seconds(w))), default=0.0)
        if self.influxdb is None and keep is not None and keep * 86400 < longest:
            msg = (
                f"{keep:g} days keep less than the longest OEE window ({longest / 86400:g} "
                "days), whose figures would miss history after a restart: keep it longer"
            )
            raise_problems("Config", [(("sqlite", "retention_days"), msg)])
        return self

    @model_validator(mode="after")
    def _targets_name_shifts_and_products(self) -> Config:
        problems: list[Problem] = []
        for i, m in enumerate(self.machines):
            where = ("machines", i, "targets")
            problems += target_problems(where, m.targets, self.calendar_for(m.id), m.products)
        for name, line in self.lines.items():
            machines = self.line_machines(name)
            if line.targets is not None and machines:
                cal = self.calendar_for(machines[0])
                problems += target_problems(("lines", name, "targets"), line.targets, cal)
        raise_problems("Config", problems)
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

    def scrap_reasons_for(self, machine_id: str) -> dict[int, ScrapReasonConfig]:
        """The plant's reject-reason tree with the machine's own entries (they win)."""
        return {**self.scrap_reasons, **self.machine(machine_id).scrap_reasons}

    def reasons_for(self, machine_id: str) -> dict[int, ReasonConfig]:
        """The plant's reason tree with the machine's own entries (they win on equal codes)."""
        return {**self.reasons, **self.machine(machine_id).reasons}
