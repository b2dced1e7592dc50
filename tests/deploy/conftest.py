"""The Grafana tests' plant, one for the package: both test modules query it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy.grafana_plant import plant
from tests.deploy.grafana_query import DataSource
from tests.fixtures.influx import InfluxServer


@pytest.fixture(scope="package")
def datasource(
    influxd: InfluxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DataSource]:
    """The provisioned data source on the database the gateway filled (see grafana_plant)."""
    yield from plant(influxd, tmp_path_factory.mktemp("grafana"))
