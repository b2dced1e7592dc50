"""Config reload on real servers: `POST /api/v1/config/reload` (admin) re-reads the file;
an invalid one is a 422 listing every problem as `oee-edge check` does, a changed `api`
section a 409, and neither changes anything; a valid one restarts the pipeline in place
while the API keeps serving, and no event is lost or repeated on MQTT (`seq` goes on,
the parts made during the restart are counted). SIGHUP on `oee-edge run` does the same.

The simulator (tests/edge/config/reload_scenario.yaml) idles 2 s, then m1 makes 40 parts
(10 rejects) in 5 s, during which the test reloads; then every machine idles forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import httpx

from edge.cli.main import main as cli_main
from edge.cli.serve import Daemon
from edge.config import MachineConfig
from edge.config.loading import load_config
from tests.fixtures.gateway_process import GatewayProcess, SimulatorProcess
from tests.fixtures.mosquitto import MqttCollector, Received
from tests.fixtures.ports import free_port
from tests.integration.gateway import modbus_machines, task_stacks, wait_until

SCENARIO = Path(__file__).with_name("reload_scenario.yaml")
ADMIN, READ = "adm-7c1f09e2d4b8a6", "rd-0b6e5a913c2f7d"
KEYED = ", keys: [{name: ops, key: '${ADMIN_KEY}', scope: admin}, {name: v, key: '${READ_KEY}'}]"
RELOAD = "/api/v1/config/reload"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}
# m1's states: the old gateway sees idle and running and says offline at its stop; the
# new one sees running again, the idle at the script's end, and says offline at its stop.
M1_STATES = ["idle", "running", "offline", "running", "idle", "offline"]
STATUS = [b"online", b"offline", b"online", b"offline"]  # the gateway's, two runs


def config_text(
    tmp_path: Path, line: str, ports: tuple[int, int, int], machines: Iterable[str], api: str = ""
) -> str:
    """The gateway `gw-{line}` reading `machines` of the simulator; `ports` are the
    simulator's, Mosquitto's and the API's; `api` goes on in the `api:` mapping."""
    sim, mqtt, http = ports
    return f"""gateway: {{id: gw-{line}, data_dir: "{tmp_path / "data"}"}}
site: plant
area: area1
line: {line}
api: {{port: {http}{api}}}
mqtt: {{host: 127.0.0.1, port: {mqtt}}}
oee: {{windows: [1h], publish_interval_s: 0.25}}
machines:""" + modbus_machines(str(sim), {m: 0.1 for m in machines})


def payloads(messages: list[Received], topic: str) -> list[dict[str, int | str]]:
    return [json.loads(m.payload) for m in messages if m.topic == topic]


def check_continuity(messages: list[Received], root: str, states: list[str]) -> None:
    """m1's state changes and counts on MQTT across the reload: `seq` 1, 2, 3 … without a
    gap or a repeat, and every part counted once (50 parts, 10 rejects)."""
    events = payloads(messages, f"{root}/m1/event")
    assert [(e["state"], e["seq"]) for e in events] == [(s, i + 1) for i, s in enumerate(states)]
    counts = payloads(messages, f"{root}/m1/count")
    assert [c["seq"] for c in counts] == list(range(1, len(counts) + 1))
    assert sum(int(c["total"]) for c in counts) == 50
    assert sum(int(c["reject"]) for c in counts) == 10


@contextlib.asynccontextmanager
async def daemon_running(path: Path) -> AsyncIterator[Daemon]:
    """`oee-edge run -c path` in-process: the gateway, its API, reloadable."""
    daemon = Daemon(load_config(path), config_path=path)
    task = asyncio.create_task(daemon.run(), name="daemon-under-test")
    try:
        yield daemon
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=20)
        assert done, "the daemon did not stop within 20 s:\n" + task_stacks()
        with contextlib.suppress(asyncio.CancelledError):
            task.result()


def reading(daemon: Daemon, machines: list[str]) -> bool:
    live = daemon.gateway.live.machines
    return list(live) == machines and all(
        m.state is not None and m.state.state != "offline" for m in live.values()
    )


async def ids(http: httpx.AsyncClient) -> list[str]:
    return [m["id"] for m in (await http.get("/api/v1/machines", headers=AS_ADMIN)).json()]


def broken(text: str) -> str:
    """`text` with three problems: a unit id out of range, a field misspelled (so missing)."""
    return text.replace("unit_id: 3", "unit_id: 300").replace("ideal_cycle_s", "ic", 1)


async def invalid_file_is_422(http: httpx.AsyncClient, path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    r = await http.post(RELOAD, headers=AS_ADMIN)
    allowed = ", ".join(sorted(MachineConfig.model_fields))
    assert (r.status_code, r.json()) == (
        422,
        {
            "detail": f"{path}: 3 problem(s) in the configuration; "
            "the running configuration is unchanged",
            "errors": [
                {"path": "machines[0].ideal_cycle_s", "message": "required field is missing"},
                {"path": "machines[0].ic", "message": f"unknown field; allowed here: {allowed}"},
                {
                    "path": "machines[1].modbus.unit_id",
                    "message": "300 is out of range: write a whole number from 0 to 255",
                },
            ],
        },
    )
    assert cli_main(["check", str(path)]) == 1  # the same problems, the same words
    printed = capsys.readouterr().err.splitlines()[1:]
    assert printed == [f"  {e['path']}: {e['message']}" for e in r.json()["errors"]]


async def changed_api_is_409(http: httpx.AsyncClient) -> None:
    r = await http.post(RELOAD, headers=AS_ADMIN)
    assert (r.status_code, r.json()) == (
        409,
        {
            "detail": "restart needed for api.cors_origins: the API's address, keys and "
            "CORS are set up at start; the running configuration is unchanged"
        },
    )


async def reload_while_serving(http: httpx.AsyncClient, line: str) -> None:
    """The valid reload, with /health asked every 20 ms meanwhile: always a 200."""
    health: list[int] = []
    poller = asyncio.create_task(poll_health(http, health))
    r = await http.post(RELOAD, headers=AS_ADMIN)
    poller.cancel()
    assert (r.status_code, r.json()) == (
        200,
        {"gateway": f"gw-{line}", "machines": ["m1", "m3"], "added": ["m3"], "removed": ["m2"]},
    )
    (stopped,) = await asyncio.gather(poller, return_exceptions=True)
    assert isinstance(stopped, asyncio.CancelledError), stopped  # it failed on nothing
    assert health and set(health) == {200}, health


async def poll_health(http: httpx.AsyncClient, answers: list[int]) -> None:
    while True:
        answers.append((await http.get("/health", timeout=2)).status_code)
        await asyncio.sleep(0.02)


async def test_reload_over_http(  # type: ignore[no-untyped-def]
    simulator_factory, mosquitto, tmp_path: Path, monkeypatch, caplog, capsys
) -> None:
    monkeypatch.setenv("ADMIN_KEY", ADMIN)
    monkeypatch.setenv("READ_KEY", READ)
    caplog.set_level(logging.INFO)
    line, api_port = "reload-http", free_port()
    ports = (simulator_factory(SCENARIO).port, mosquitto.port, api_port)
    path = tmp_path / "gw.yaml"
    path.write_text(config_text(tmp_path, line, ports, ["m1", "m2"], KEYED))
    new = config_text(tmp_path, line, ports, ["m1", "m3"], KEYED)
    root, status = f"oee/plant/area1/{line}", f"oee/plant/_gateway/gw-{line}/status"
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{root}/#", status]) as c:
        async with (
            daemon_running(path) as daemon,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http,
        ):
            await wait_until(lambda: reading(daemon, ["m1", "m2"]), 15, "m1 and m2 read")
            assert (await http.post(RELOAD)).status_code == 401
            assert (await http.post(RELOAD, headers={"X-API-Key": READ})).status_code == 403
            path.write_text(broken(new))
            await invalid_file_is_422(http, path, capsys)
            path.write_text(new.replace("api: {", "api: {cors_origins: ['*'], "))
            await changed_api_is_409(http)
            assert await ids(http) == ["m1", "m2"]
            # m1 produces: reload now; m2 goes, m3 comes.
            await asyncio.to_thread(c.wait_count, 1, f"{root}/m1/count", timeout=10)
            path.write_text(new)
            await reload_while_serving(http, line)
            assert await ids(http) == ["m1", "m3"]
            await wait_until(lambda: reading(daemon, ["m1", "m3"]), 15, "m3 read")
            m1 = daemon.gateway.live.machines["m1"]
            await wait_until(lambda: m1.state is not None and m1.state.seq == 5, 15, "m1's end")
        await asyncio.to_thread(c.wait_for, lambda ms: ms[-1].topic == status, 5)
    check_continuity(list(c.messages), root, M1_STATES)
    m3 = payloads(list(c.messages), f"{root}/m3/event")
    assert [e["seq"] for e in m3] == list(range(1, len(m3) + 1))
    assert [m.payload for m in c.on(status)] == STATUS
    assert "gateway restarted with 2 machine(s)" in caplog.text
    assert ADMIN not in caplog.text and READ not in caplog.text


# --------------------------------------------------------------------------- SIGHUP


def wait_log(gw: GatewayProcess, text: str, within_s: float = 15) -> None:
    deadline = time.monotonic() + within_s
    while text not in gw.log.read_text(errors="replace"):
        assert gw.running, f"the gateway exited:\n{gw.log_tail()}"
        assert time.monotonic() < deadline, f"no '{text}' in the log:\n{gw.log_tail()}"
        time.sleep(0.05)


def wait_offline(gw: GatewayProcess, within_s: float = 20) -> None:
    """Until the API serves and says every machine is offline (no simulator yet)."""
    deadline = time.monotonic() + within_s
    while {m["state"] for m in gw.machines() or [{"state": None}]} != {"offline"}:
        assert gw.running and time.monotonic() < deadline, gw.log_tail()
        time.sleep(0.05)


def hangup(gw: GatewayProcess) -> None:
    assert gw.proc is not None
    gw.proc.send_signal(signal.SIGHUP)


def test_sighup_reloads_oee_edge_run(mosquitto, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    line, api_port, sim_port = "reload-hup", free_port(), free_port()
    ports = (sim_port, mosquitto.port, api_port)
    path = tmp_path / "gw.yaml"
    path.write_text(config_text(tmp_path, line, ports, ["m1", "m2"]))
    root, status = f"oee/plant/area1/{line}", f"oee/plant/_gateway/gw-{line}/status"
    gw = GatewayProcess(path, tmp_path / "gateway.log", api_port)
    sim = SimulatorProcess(SCENARIO, sim_port, 0, tmp_path / "sim.log")
    with MqttCollector(mosquitto.host, mosquitto.port, [f"{root}/#", status]) as c:
        gw.start()
        try:
            # The simulator starts once the gateway runs (a process takes seconds to start),
            # so the gateway reads m1's counter before its first part.
            wait_offline(gw)
            sim.epoch = time.time()
            sim.start()
            gw.wait_reading(15)
            path.write_text(config_text(tmp_path, line, ports, ["m1", "m3"], ", port: 0.5"))
            hangup(gw)
            wait_log(gw, "reload refused, still running the previous configuration")
            assert [m["id"] for m in gw.machines() or []] == ["m1", "m2"]
            c.wait_count(1, f"{root}/m1/count", timeout=10)
            path.write_text(config_text(tmp_path, line, ports, ["m1", "m3"]))
            hangup(gw)
            wait_log(gw, f"reloaded {path}: 2 machine(s)")
            gw.wait_reading(15)
            assert [m["id"] for m in gw.machines() or []] == ["m1", "m3"]
            c.wait_for(lambda ms: any(e["seq"] == 6 for e in payloads(ms, f"{root}/m1/event")), 15)
        finally:
            code, _ = gw.terminate()
            sim.stop()
        c.wait_for(lambda ms: ms[-1].topic == status, 5)
    log = gw.log.read_text(errors="replace")
    assert code == 0, log
    assert "Traceback" not in log
    problem = "1 problem(s) in the configuration:\n  api.port: Input should be a valid integer"
    assert f"{path}: {problem}" in log
    # m1 is offline until the simulator serves; then as in the HTTP test.
    check_continuity(list(c.messages), root, ["offline", *M1_STATES])
    assert [m.payload for m in c.on(status)] == STATUS
