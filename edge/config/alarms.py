"""The `alarms:` section: alarm rules and the optional webhook (README "Configuration").

Each rule has a `kind` (`stop`, `figure`, `suspect_count`, `offline`, `spc`, `order_late`,
`order_at_risk`; the registry is
`oee.alarms.RULE_KINDS`), a `name` (unique: the alarm's `rule`), a `severity` and an
optional filter of machines and lines; `to_rule()` makes the pure rule of `oee.alarms`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from connectors.webhook.config import WebhookConfig
from core.config import INT64, Model, within
from edge.config.machine import Identifier
from oee.alarms import (
    FigureRule,
    OfflineRule,
    OrderRule,
    Rule,
    SpcRule,
    StopRule,
    SuspectRule,
)
from oee.states import MachineState

__all__ = ["AlarmRuleConfig", "AlarmsConfig"]

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: object) -> object:
    """`20s`, `10m`, `1h`, `2d` or a number of seconds."""
    if isinstance(value, str):
        text = value.strip()
        unit = _DURATION_UNITS.get(text[-1:])
        try:
            return float(text[:-1]) * unit if unit else float(text)
        except ValueError:
            raise ValueError(f"'{value}' is not a duration: write e.g. 20s, 10m or 1h") from None
    return value


#: How long a condition must last before it raises: one second to a week.
Duration = Annotated[float, BeforeValidator(_seconds), within(1, 7 * 86400, "seconds")]
Ratio = Annotated[float, within(0, 1)]


class _RuleBase(Model):
    name: Identifier = Field(description="the rule's name: the `rule` of its alarms")
    severity: Literal["info", "warning", "critical"] = "warning"
    machines: list[Identifier] | None = Field(default=None, description="only these machines")
    lines: list[Identifier] | None = Field(default=None, description="only these lines")

    def applies_to(self, machine: str, line: str) -> bool:
        """Whether the rule watches `machine` (on `line`)."""
        return (self.machines is None or machine in self.machines) and (
            self.lines is None or line in self.lines
        )


class StopRuleConfig(_RuleBase):
    """A stop in one of `states` longer than `longer_than` (optionally: with a reason)."""

    kind: Literal["stop"]
    states: list[Literal["fault", "idle", "setup"]] = Field(default=["fault"], min_length=1)
    longer_than: Duration
    reasons: list[INT64] | None = Field(default=None, description="only these reason codes")

    def to_rule(self) -> Rule:
        codes = None if self.reasons is None else frozenset(self.reasons)
        states = frozenset(MachineState(s) for s in self.states)
        return StopRule(self.name, self.severity, states, self.longer_than, codes)


class FigureRuleConfig(_RuleBase):
    """OEE or a factor over `window` below `below`; clears at `below + clear_margin`."""

    kind: Literal["figure"]
    figure: Literal["oee", "availability", "performance", "quality"] = "oee"
    window: str = Field(description="one of oee.windows, e.g. 1h or shift")
    below: Ratio
    clear_margin: Ratio = 0.05
    min_coverage: Ratio = Field(default=0.5, description="no verdict on less known time")

    def to_rule(self) -> Rule:
        return FigureRule(
            self.name, self.severity, self.figure, self.window, self.below,
            self.clear_margin, self.min_coverage,
        )  # fmt: skip


class SuspectRuleConfig(_RuleBase):
    """A count held as suspect until someone decides it."""

    kind: Literal["suspect_count"]

    def to_rule(self) -> Rule:
        return SuspectRule(self.name, self.severity)


class OfflineRuleConfig(_RuleBase):
    """The machine offline (no valid data) for longer than `longer_than`."""

    kind: Literal["offline"]
    longer_than: Duration

    def to_rule(self) -> Rule:
        return OfflineRule(self.name, self.severity, self.longer_than)


#: The run rules (oee.alarms.SPC_RULE_IDS): Western Electric 1-4, Nelson 1-8, and a
#: spread point (R, S or MR) outside its own limits.
SpcRuleId = Literal[
    "WE1", "WE2", "WE3", "WE4", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "SPREAD"
]  # fmt: skip


class SpcRuleConfig(_RuleBase):
    """A run rule broken on a control chart (`spc.charts`): raised at the violation,
    cleared after `clear_after` points in a row of that chart without one."""

    kind: Literal["spc"]
    charts: list[Identifier] | None = Field(default=None, description="only these charts")
    rules: list[SpcRuleId] | None = Field(default=None, description="only these run rules")
    clear_after: Annotated[int, within(1, 1000, "points")] = 8

    def to_rule(self) -> Rule:
        charts = None if self.charts is None else frozenset(self.charts)
        rules = None if self.rules is None else frozenset(self.rules)
        return SpcRule(self.name, self.severity, charts, rules, self.clear_after)


class OrderRuleConfig(_RuleBase):
    """The machine's current order late (`order_late`: past due, or expected to finish
    after it) or at risk (`order_at_risk`: within `orders.at_risk_margin_s` of due)."""

    kind: Literal["order_late", "order_at_risk"]

    def to_rule(self) -> Rule:
        return OrderRule(self.name, self.severity, self.kind)


AlarmRuleConfig = Annotated[
    StopRuleConfig
    | FigureRuleConfig
    | SuspectRuleConfig
    | OfflineRuleConfig
    | SpcRuleConfig
    | OrderRuleConfig,
    Field(discriminator="kind"),
]


class AlarmsConfig(Model):
    """Alarm rules and where alarm changes go besides MQTT, the store and InfluxDB."""

    rules: list[AlarmRuleConfig] = Field(default_factory=list)
    webhook: WebhookConfig | None = None

    def problems(
        self, machines: set[str], lines: set[str], windows: list[str], charts: set[str]
    ) -> list[tuple[tuple[str | int, ...], str]]:
        """What does not fit the rest of the config: a name used twice, a machine, line,
        window or SPC chart that does not exist (each with its field path)."""
        out: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            at: tuple[str | int, ...] = ("alarms", "rules", i)
            if rule.name in seen:
                out.append(((*at, "name"), f"rule name '{rule.name}' is used twice: rename one"))
            seen.add(rule.name)
            for field, known in (("machines", machines), ("lines", lines), ("charts", charts)):
                for j, x in enumerate(getattr(rule, field, None) or []):
                    if x not in known:
                        names = ", ".join(sorted(known)) or "none"
                        msg = f"no {field[:-1]} '{x}': known are {names}"
                        out.append(((*at, field, j), msg))
            if isinstance(rule, FigureRuleConfig) and rule.window not in windows:
                msg = f"window '{rule.window}' is not in oee.windows ({', '.join(windows)}): add it"
                out.append(((*at, "window"), msg))
        return out
