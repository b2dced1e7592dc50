"""Real servers for the tests: each fixture starts its server on a free loopback port and
fails loudly when it cannot (never skips)."""

pytest_plugins = [
    "tests.fixtures.simulator",
    "tests.fixtures.opcua_simulator",
    "tests.fixtures.mosquitto",
    "tests.fixtures.influx",
    "tests.fixtures.node_opcua",
    "tests.fixtures.outbox",
    "tests.fixtures.fault_rig",
]
