"""Pure OEE computation (ISO 22400-2 time model, Nakajima's six big losses).

No I/O, no asyncio, no clock reads: every function takes time as an argument.

- `compute`: the figures of any range from exported state changes and counts;
- `MachineTracker`: the same figures kept up to date event by event, for many windows;
- `Calendar`: shifts, breaks and planned stops in the plant's time zone;
- `rollup`: line and plant OEE from machines' reports.
"""

from oee.calendar import Break, Calendar, PlannedPeriod, Shift
from oee.figures import compute
from oee.losses import LossReport, Production, ReasonLoss, StateInterval, analyse, pareto
from oee.rollup import LineOee, combine, rollup
from oee.states import MachineState
from oee.timeline import Transition, intervals
from oee.tracker import MachineTracker, WindowReport, WindowSpec

__all__ = [
    "Break", "Calendar", "LineOee", "LossReport", "MachineState", "MachineTracker",
    "PlannedPeriod", "Production", "ReasonLoss", "Shift",
    "StateInterval", "Transition", "WindowReport", "WindowSpec", "analyse", "combine",
    "compute", "intervals", "pareto", "rollup",
]  # fmt: skip
