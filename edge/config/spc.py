"""The `spc:` section: statistical process control charts (README "Configuration",
docs/SPC.md "Configuration").

A chart watches one characteristic of one machine: a numeric process tag (`source: tag`),
readings entered by hand over the API (`manual`), or the machine's counts and booked scrap
(`counts`: p and np from rejects, c and u from defects booked by reason). Each field is
checked on its own here; what must fit the rest of the file (the machine, its tags,
counters, products and scrap reasons) is checked by `chart_problems`, each problem at its
field path with the fix.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from core.config import INT64, Model, within
from edge.config.machine import Identifier, MachineConfig
from edge.config.oee import Problem, raise_problems
from edge.config.operator import ScrapReasonConfig
from oee.spc import ATTRIBUTES, VARIABLES, RuleSet, Spec

__all__ = [
    "ChartConfig",
    "ManualLimitsConfig",
    "RulesConfig",
    "SpcConfig",
    "SpecConfig",
    "SubgroupConfig",
    "ValidRange",
    "chart_problems",
]

Kind = Literal["imr", "xbar_r", "xbar_s", "p", "np", "c", "u"]
#: A measured value or a limit: finite, within ±1e12 like a tag's scale and offset.
Measure = Annotated[float, within(-1e12, 1e12)]
# Which kinds each source can feed: readings make variables charts, counts attributes.
_KINDS_OF = {"tag": VARIABLES, "manual": VARIABLES, "counts": ATTRIBUTES}


class SubgroupConfig(Model):
    """How readings (or parts) make one chart point."""

    size: Annotated[int, within(1, 25, "readings")] | None = Field(
        default=None, description="readings per subgroup: imr 1 (default), xbar_r/xbar_s 2..25"
    )
    every_s: Annotated[float, within(1, 86400, "seconds")] | None = Field(
        default=None,
        description="by time: the first `size` readings after each interval start (rest "
        "skipped); attributes: one point per interval",
    )
    per_part: bool = Field(
        default=False, description="a reading only at a poll where the machine's counter moved"
    )
    parts: Annotated[int, within(1, 10_000_000, "parts")] | None = Field(
        default=None, description="p/np: one point per this many parts"
    )


class ValidRange(Model):
    """The physical range of a reading: outside it (or NaN) it is held out and flagged."""

    min: Measure
    max: Measure

    @model_validator(mode="after")
    def _ordered(self) -> ValidRange:
        if not self.min < self.max:
            msg = f"min ({self.min:g}) must be below max ({self.max:g}): swap or widen them"
            raise_problems("ValidRange", [(("max",), msg)])
        return self


class RulesConfig(Model):
    """The run rules that judge a chart, by number."""

    western_electric: list[Annotated[int, within(1, 4)]] = Field(default=[1, 2, 3, 4])
    nelson: list[Annotated[int, within(1, 8)]] = Field(default_factory=list)

    def to_rules(self) -> RuleSet:
        return RuleSet(frozenset(self.western_electric), frozenset(self.nelson))


class SpecConfig(Model):
    """Specification limits and target (any may be missing; at least one limit or target)."""

    lsl: Measure | None = None
    usl: Measure | None = None
    target: Measure | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SpecConfig:
        lsl, usl, t = self.lsl, self.usl, self.target
        if lsl is not None and usl is not None and not lsl < usl:
            msg = f"lsl ({lsl:g}) must be below usl ({usl:g}): swap them"
            raise_problems("SpecConfig", [(("usl",), msg)])
        low = -math.inf if lsl is None else lsl
        high = math.inf if usl is None else usl
        if t is not None and not low <= t <= high:
            msg = f"target {t:g} lies outside the spec limits: put it between lsl and usl"
            raise_problems("SpecConfig", [(("target",), msg)])
        return self

    def to_spec(self) -> Spec:
        return Spec(self.lsl, self.usl, self.target)


class ManualLimitsConfig(Model):
    """Limits set by hand (Phase II from the start): centre line and control limits of the
    plotted statistic at the chart's subgroup size; `sigma` (of one reading) and the spread
    chart's centre (R̄, S̄ or MR̄) are derived from them when not given."""

    center: Measure
    ucl: Measure
    lcl: Measure
    sigma: Annotated[float, within(0, 1e12)] | None = None
    spread_center: Annotated[float, within(0, 1e12)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ManualLimitsConfig:
        if not self.lcl < self.center < self.ucl:
            msg = (
                f"lcl ({self.lcl:g}) < center ({self.center:g}) < ucl ({self.ucl:g}) does "
                "not hold: give the lower limit, the centre line and the upper limit in order"
            )
            raise_problems("ManualLimitsConfig", [(("center",), msg)])
        return self


class ChartConfig(Model):
    """One control chart."""

    id: Identifier = Field(description="unique; in topics, the API and the store")
    machine: Identifier
    name: str | None = None
    unit: str | None = None
    source: Literal["tag", "manual", "counts"] = "tag"
    tag: str | None = Field(default=None, description="source tag: a numeric tag of the machine")
    kind: Kind
    subgroup: SubgroupConfig = SubgroupConfig()
    valid: ValidRange | None = Field(default=None, description="physical range of a reading")
    rules: RulesConfig = RulesConfig()
    spec: SpecConfig | None = None
    products: dict[str, SpecConfig] = Field(default_factory=dict, description="spec per product")
    limits: ManualLimitsConfig | None = None
    reasons: list[INT64] | None = Field(
        default=None, description="c/u: scrap reason codes that count as defects (null: all)"
    )
    baseline_subgroups: Annotated[int, within(2, 1000, "subgroups")] = Field(
        default=25, description="Phase I trial limits are computed once from the first N"
    )

    @model_validator(mode="after")
    def _fits_itself(self) -> ChartConfig:
        raise_problems("ChartConfig", self._problems())
        return self

    @property
    def title(self) -> str:
        """The name shown for the chart: its `name`, else its id."""
        return self.name or self.id

    @property
    def size(self) -> int:
        """Readings per subgroup (variables charts; 1 for I-MR)."""
        return self.subgroup.size or 1

    @property
    def variables(self) -> bool:
        return self.kind in VARIABLES

    def spec_for(self, product: str | None) -> Spec | None:
        """The product's spec if it has one, else the chart's (None: no spec)."""
        chosen = self.products.get(product) if product is not None else None
        chosen = chosen or self.spec
        return None if chosen is None else chosen.to_spec()

    def _problems(self) -> list[Problem]:
        out: list[Problem] = []
        kinds = _KINDS_OF[self.source]
        if self.kind not in kinds:
            fits = ", ".join(sorted(kinds))
            # The subgroup's problems would only follow from the wrong kind: this one first.
            return [(("kind",), f"source {self.source} makes {fits} charts, not {self.kind}")]
        if (self.source == "tag") != (self.tag is not None):
            msg = (
                "source tag reads `tag`: name it"
                if self.tag is None
                else "only source tag has a tag: remove it"
            )
            out.append((("tag",), msg))
        out += _subgroup_problems(self.kind, self.source, self.subgroup)
        if not self.variables:
            for field in ("valid", "spec", "products"):
                if getattr(self, field):
                    out.append(((field,), f"{field} applies to variables charts, not {self.kind}"))
        if self.reasons is not None and self.kind not in ("c", "u"):
            out.append(
                (("reasons",), f"reasons select defects for c and u charts, not {self.kind}")
            )
        return out


def _subgroup_problems(kind: str, source: str, sg: SubgroupConfig) -> list[Problem]:
    at = "subgroup"
    out: list[Problem] = []
    if kind == "imr" and sg.size not in (None, 1):
        out.append(
            ((at, "size"), "imr charts single readings: subgroup.size is 1 (or leave it out)")
        )
    if kind in ("xbar_r", "xbar_s") and (sg.size is None or sg.size < 2):
        out.append(((at, "size"), f"{kind} needs subgroup.size 2..25 (readings per subgroup)"))
    if kind in ATTRIBUTES and sg.size is not None:
        out.append(((at, "size"), f"{kind} points are made of parts or intervals: remove size"))
    if sg.parts is not None and kind not in ("p", "np"):
        out.append(((at, "parts"), f"parts makes p and np subgroups, not {kind}: remove it"))
    if sg.per_part and source != "tag":
        out.append(((at, "per_part"), "per_part takes readings of a tag: use it with source tag"))
    if source == "manual" and (sg.every_s is not None or sg.per_part):
        out.append(((at,), "manual readings are grouped by size only: remove every_s/per_part"))
    out += _attribute_subgroup_problems(kind, sg)
    return out


def _attribute_subgroup_problems(kind: str, sg: SubgroupConfig) -> list[Problem]:
    at = "subgroup"
    if kind == "np" and (sg.parts is None or sg.every_s is not None):
        # n·p̄ limits need one constant n (Montgomery §7.2.1): a fixed number of parts.
        return [((at, "parts"), "np needs a constant subgroup: set subgroup.parts, not every_s")]
    if kind == "p" and (sg.parts is None) == (sg.every_s is None):
        return [((at,), "p needs one of subgroup.parts (parts per point) or subgroup.every_s")]
    if kind in ("c", "u") and sg.every_s is None:
        return [((at, "every_s"), f"{kind} counts defects per interval: set subgroup.every_s")]
    return []


class SpcConfig(Model):
    """The control charts of the gateway."""

    charts: list[ChartConfig] = Field(default_factory=list)


def chart_problems(
    charts: list[ChartConfig],
    machines: dict[str, MachineConfig],
    scrap_reasons: dict[str, dict[int, ScrapReasonConfig]],
) -> list[Problem]:
    """What of `spc.charts` does not fit the machines (each at its field path)."""
    out: list[Problem] = []
    seen: set[str] = set()
    for i, chart in enumerate(charts):
        at: tuple[str | int, ...] = ("spc", "charts", i)
        if chart.id in seen:
            out.append(((*at, "id"), f"chart id '{chart.id}' is used twice: rename one"))
        seen.add(chart.id)
        m = machines.get(chart.machine)
        if m is None:
            known = ", ".join(machines)
            out.append(((*at, "machine"), f"no machine '{chart.machine}': known are {known}"))
            continue
        out += [((*at, *p), msg) for p, msg in _machine_problems(chart, m, scrap_reasons[m.id])]
    return out


def _machine_problems(
    chart: ChartConfig, m: MachineConfig, scrap: dict[int, ScrapReasonConfig]
) -> list[Problem]:
    out: list[Problem] = []
    if chart.tag is not None and (problem := _tag_problem(chart.tag, m)) is not None:
        out.append((("tag",), problem))
    out += _count_problems(chart, m)
    if m.products:
        known = ", ".join(sorted(m.products))
        for code in chart.products:
            if code not in m.products:
                msg = f"'{code}' is not a product of machine '{m.id}'; its products are {known}"
                out.append((("products", code), msg))
    known = ", ".join(str(c) for c in sorted(scrap))
    for j, reason in enumerate(chart.reasons or []):
        if scrap and reason not in scrap:
            msg = f"{reason} is not a scrap reason of machine '{m.id}'; known are {known}"
            out.append((("reasons", j), msg))
    return out


def _count_problems(chart: ChartConfig, m: MachineConfig) -> list[Problem]:
    """per_part, p, np and u need the machine's part counts (p and np its rejects too)."""
    c = m.counters
    if c is None and (chart.subgroup.per_part or chart.kind in ("p", "np", "u")):
        at = ("subgroup", "per_part") if chart.subgroup.per_part else ("kind",)
        return [(at, f"machine '{m.id}' counts no parts: give it counters (total, good, reject)")]
    given = 0 if c is None else sum(x is not None for x in (c.total, c.good, c.reject))
    if chart.kind in ("p", "np") and given < 2:
        msg = (
            f"{chart.kind} needs rejects: give machine '{m.id}' two of counters.total, good, reject"
        )
        return [(("kind",), msg)]
    return []


def _tag_problem(tag: str, m: MachineConfig) -> str | None:
    config = m.tags.get(tag)
    if config is None:
        known = ", ".join(sorted(m.tags)) or "none"
        return f"tag '{tag}' is not a tag of machine '{m.id}'; its tags are {known}"
    kind = getattr(config, "type", None)
    if kind is not None and kind.value in ("bit", "string"):
        return f"tag '{tag}' is a {kind.value}, not a measurement: chart a numeric tag"
    return None
