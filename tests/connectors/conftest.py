from tests.fixtures.influx import influxd, victoria_metrics  # noqa: F401
