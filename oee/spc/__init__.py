"""Statistical process control (issue 18): control chart constants, Phase I limits,
points judged against limits, the Western Electric and Nelson run rules, and process
capability. Pure: no I/O, no clock; time comes in with the data. Formulas and the
published examples they are checked against: docs/SPC.md."""

from oee.spc.capability import Moments, capability, capability_from, capability_of
from oee.spc.constants import c4, constants
from oee.spc.limits import compute_limits, judge, limits_at, spread_limits_at
from oee.spc.rules import NAMES, RuleTracker, evaluate
from oee.spc.types import (
    ATTRIBUTES,
    VARIABLES,
    Capability,
    ChartKind,
    Constants,
    Limits,
    Point,
    RuleSet,
    Spec,
    Subgroup,
    Violation,
)

__all__ = [
    "ATTRIBUTES", "VARIABLES", "Capability", "ChartKind", "Constants", "Limits", "Point",
    "RuleSet", "Spec", "Subgroup", "Violation", "Moments", "NAMES", "RuleTracker", "c4",
    "capability_of",
    "capability", "capability_from", "compute_limits", "constants", "evaluate", "judge",
    "limits_at", "spread_limits_at",
]  # fmt: skip
