"""``python -m simulators SCENARIO [--protocol modbus|opcua|both] ...`` (see --help)."""

from simulators.cli import run

run()
