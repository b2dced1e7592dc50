"""Our OPC UA connector reads a node-opcua server (an implementation no one here wrote):
namespace by URI at a non-default index, every change by subscription, and the same
over Basic256Sha256 with a user, trusting the server through the trust folder."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from connectors.opcua.pki import Pki
from connectors.opcua.source import OpcUaSource
from core.types import Quality, SampleBatch
from edge.config import OpcUaConnection, OpcUaTag
from tests.fixtures.node_opcua import FINAL_VALUES, NODE_IDS


def press7_source(tmp_path: Path, url: str, **conn: object) -> OpcUaSource:
    tags = {name.lower(): OpcUaTag(node=node) for name, node in NODE_IDS.items()}
    connection = OpcUaConnection(
        endpoint=url, publishing_interval_s=0.05, sampling_interval_s=0.0, queue_size=50,
        poll_interval_s=0.05, backoff_initial_s=0.05, backoff_max_s=0.2, **conn,  # type: ignore[arg-type]
    )  # fmt: skip
    return OpcUaSource(
        "press7", connection, tags, pki=Pki(tmp_path / "pki"),
        application_uri="urn:oee-edge:interop", numeric={"state", "good", "reject"},
    )  # fmt: skip


async def until_done(src: OpcUaSource, within_s: float = 15.0) -> list[SampleBatch]:
    out: list[SampleBatch] = []

    async def take() -> None:
        async with src:
            async for b in src.stream():
                out.append(b)
                v = b.values()
                if v["state"].value == 3 and v["good"].value == 20:
                    return

    await asyncio.wait_for(take(), within_s)
    return out


def check_run(batches: list[SampleBatch], every_change: bool) -> None:
    good = [b.values()["good"].value for b in batches if b.values()["good"].quality is Quality.GOOD]
    changes = [g for i, g in enumerate(good) if i == 0 or g != good[i - 1]]
    assert changes == sorted(changes) and changes[-1] == 20
    if every_change:
        # node-opcua samples at its own minimum interval (not faster than the 100 ms
        # steps), so a step may fall between two samples; but none arrives twice or late.
        assert len(changes) == len(set(changes)) >= 5
    last = batches[-1].values()
    assert {n: last[n.lower()].value for n in FINAL_VALUES} == FINAL_VALUES
    assert all(s.quality is Quality.GOOD for s in batches[-1].samples)
    states = [b.values()["state"].value for b in batches]
    assert states[0] == 1 and states[-1] == 3 and set(states) == {1, 3}


@pytest.mark.parametrize("mode", ["subscription", "poll"])
async def test_reads_a_node_opcua_server(mode: str, node_opcua_server, tmp_path: Path) -> None:
    server = node_opcua_server()
    batches = await until_done(press7_source(tmp_path, server.url, mode=mode))
    check_run(batches, every_change=mode == "subscription")


async def test_reads_a_secured_node_opcua_server_as_a_user(
    node_opcua_server, tmp_path: Path
) -> None:
    server = node_opcua_server(security="basic256sha256", user="op:pw")
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    shutil.copy(server.cert_path, trusted / "node-opcua.der")
    src = press7_source(
        tmp_path, server.url,
        security={"policy": "Basic256Sha256", "mode": "SignAndEncrypt", "trust_dir": trusted},
        auth={"username": "op", "password": "pw"},
    )  # fmt: skip
    batches = await until_done(src)
    check_run(batches, every_change=True)
    assert src.stats.connects == 1
