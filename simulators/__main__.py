"""``python -m simulators SCENARIO [--port N] [--time-scale X]``."""

from simulators.cli import run

run()
