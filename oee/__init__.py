"""Pure OEE computation: state intervals, rolling windows, A/P/Q/OEE.

No I/O, no asyncio, no clock reads: every function takes time as an argument.
"""

from oee.states import MachineState
from oee.window import OeeFigures, RollingWindow

__all__ = ["MachineState", "OeeFigures", "RollingWindow"]
