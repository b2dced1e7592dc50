"""Make the simulator subprocess fixture available to these tests."""

from tests.fixtures.simulator import simulator_factory  # noqa: F401
