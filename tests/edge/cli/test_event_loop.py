"""`gateway.event_loop`: the daemon's event loop (edge.cli.serve.run_on_loop; issue 17).
uvloop where installed (`make` installs it), the standard library's on request, and a
clear refusal when uvloop is asked for and missing."""

from __future__ import annotations

import asyncio
import sys

import pytest

from edge.cli.serve import run_on_loop
from edge.cli.startup import StartupError
from edge.config.models import GatewayConfig


def loop_module(kind: str) -> str:
    seen: list[str] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)

    run_on_loop(main(), kind)
    return seen[0]


def test_auto_and_uvloop_run_on_uvloop_asyncio_on_the_standard_loop() -> None:
    assert loop_module("auto") == "uvloop"
    assert loop_module("uvloop") == "uvloop"
    assert loop_module("asyncio") == "asyncio.unix_events"


def test_without_uvloop_auto_falls_back_and_uvloop_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # what `import uvloop` meets when absent
    assert loop_module("auto") == "asyncio.unix_events"
    with pytest.raises(StartupError) as err:
        loop_module("uvloop")
    assert err.value.lines == [
        "gateway.event_loop: uvloop is not installed (pip install uvloop), or set it to auto"
    ]


def test_the_default_is_auto_and_a_wrong_value_names_the_choices() -> None:
    assert GatewayConfig(id="gw1").event_loop == "auto"
    with pytest.raises(ValueError, match="'auto', 'uvloop' or 'asyncio'"):
        GatewayConfig(id="gw1", event_loop="trio")  # type: ignore[arg-type]
