"""`PUT /api/v1/machines/{id}/product` through a real Gateway, which keeps the choice in
`{data_dir}/products.json` across restarts."""

from __future__ import annotations

import json

import httpx

from connectors.sqlite.store import SqliteStore
from edge.config import Config
from tests.api.conftest import plant_gateway


def _saved(config: Config) -> object:
    return json.loads((config.gateway.data_dir / "products.json").read_text(encoding="utf-8"))


async def test_product_is_set_and_persisted(
    plant_client: httpx.AsyncClient, plant_config: Config, plant_store: SqliteStore
) -> None:
    r = await plant_client.put("/api/v1/machines/press1/product", json={"product": "102"})
    assert r.status_code == 200
    assert r.json() == {"machine": "press1", "product": "102", "ideal_cycle_s": 3.0}
    assert _saved(plant_config) == {"press1": "102"}
    # A gateway started on the same data directory makes 102 from the start.
    again = plant_gateway(plant_config, plant_store)
    assert again.normalisers["press1"].product == "102"


async def test_null_is_the_machines_default(
    plant_client: httpx.AsyncClient, plant_config: Config
) -> None:
    await plant_client.put("/api/v1/machines/press1/product", json={"product": "101"})
    r = await plant_client.put("/api/v1/machines/press1/product", json={"product": None})
    assert r.json() == {"machine": "press1", "product": None, "ideal_cycle_s": 2.0}
    assert _saved(plant_config) == {}


async def test_each_refusal_says_why(plant_client: httpx.AsyncClient) -> None:
    cases = [
        (
            "press1",
            "999",
            422,
            {
                "detail": "product '999' is not configured for press1; configured: 101, 102",
                "known": ["101", "102"],
            },
        ),
        (
            "press2",
            "101",
            422,
            {"detail": "product '101' is not configured for press2; configured: none", "known": []},
        ),
        (
            "press3",  # its product comes from a PLC tag
            "A",
            409,
            {"detail": "machine press3 reads its product from tag 'product'"},
        ),
        (
            "nope",
            "A",
            404,
            {
                "detail": "unknown machine 'nope'; known machines: press1, press2, press3",
                "known": ["press1", "press2", "press3"],
            },
        ),
    ]
    for machine, product, status, expected in cases:
        r = await plant_client.put(f"/api/v1/machines/{machine}/product", json={"product": product})
        assert (r.status_code, r.json()) == (status, expected), machine


async def test_a_body_without_product_is_422(plant_client: httpx.AsyncClient) -> None:
    for body in ({}, {"product": 102}, {"product": "102", "extra": 1}):
        r = await plant_client.put("/api/v1/machines/press1/product", json=body)
        assert r.status_code == 422, body


async def test_without_a_gateway_it_is_503(read_only_client: httpx.AsyncClient) -> None:
    r = await read_only_client.put("/api/v1/machines/press1/product", json={"product": "102"})
    assert r.status_code == 503
    assert r.json() == {"detail": "read-only API: no running gateway to hand the change to"}
