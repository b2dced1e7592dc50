"""deploy/compose.yaml, its gateway config, Mosquitto config and env example.

There is no docker daemon here, so no stack is composed. Instead compose.yaml is
validated against the Compose Specification's JSON schema (vendored, see SCHEMA_SOURCE)
and checked against itself and the repo (services, mounted paths, ${VAR}s, ports); the
gateway config is validated by the project's own loader and CLI with the env the compose
file gives its container; and what can run without containers runs for real: the
Mosquitto config in the Debian broker, the simulator service's command, the gateway with
the compose config (host names mapped to loopback servers), and the healthchecks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

import httpx
import jsonschema
import pytest
import yaml

from connectors.mqtt.broker import find_mosquitto
from edge.config.loading import load_config
from edge.pipeline.part_record import split_reads
from simulators.scenario import load_scenario
from tests.deploy.deployfiles import (
    COMPOSE,
    DEPLOY,
    DOCKERFILE,
    GATEWAY_CONFIG,
    MACHINES,
    MOSQUITTO_CONF,
    REPO,
    SCHEMA,
    SCHEMA_SHA256,
    SCHEMA_SOURCE,
    SECRETS,
    ComposeError,
    cli_env,
    compose,
    dockerfile_stages,
    env_example,
    filled_env,
    gateway_env,
    grace_s,
    healthcheck_argv,
    instr,
    parsed,
    replace_once,
    run,
    variables,
)
from tests.fixtures.gateway_process import OEE_EDGE
from tests.fixtures.influx import VictoriaServer
from tests.fixtures.mosquitto import MqttCollector
from tests.fixtures.ports import accepts, free_port
from tests.fixtures.processes import output, stop, wait_ready

# ----------------------------------------------------------------------------- compose


def test_the_vendored_schema_is_the_pinned_upstream_file() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256, SCHEMA_SOURCE


def test_compose_file_matches_the_compose_specification() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    for doc in (compose(), compose(filled_env())):
        assert [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)] == []
    # The schema can fail: an unknown depends_on condition is refused.
    broken = compose()
    broken["services"]["gateway"]["depends_on"]["mosquitto"]["condition"] = "service_ready"
    assert not validator.is_valid(broken)


def test_dependencies_are_services_with_healthchecks() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for dep, cond in service.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert cond == {"condition": "service_healthy"}
            assert "test" in services[dep]["healthcheck"], f"{dep} has no healthcheck"
    assert set(services["gateway"]["depends_on"]) == {"mosquitto", "influxdb", "simulator"}
    assert set(services["grafana"]["depends_on"]) == {"influxdb"}


def test_mounted_host_paths_exist_and_named_volumes_are_declared() -> None:
    doc = compose()
    binds = []
    for name, service in doc["services"].items():
        for spec in service.get("volumes", []):
            source = spec.split(":")[0]
            if source.startswith("."):
                binds.append(source)
                assert (DEPLOY / source).exists(), f"{name}: {source} does not exist"
                assert spec.endswith(":ro"), f"{name}: bind mount {spec} should be read-only"
            else:
                assert source in doc["volumes"], f"{name}: volume {source} is not declared"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert len(binds) == 4  # mosquitto.conf, grafana provisioning + dashboards, config


def test_every_compose_variable_is_in_the_env_example() -> None:
    assert variables(compose()) == set(env_example())


def test_secrets_have_no_default_and_stop_compose_when_unset() -> None:
    example = env_example()
    assert {k for k, v in example.items() if v == ""} == SECRETS
    text = COMPOSE.read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"(\W[^}]*)?\}", text)
        assert uses and all(u.startswith(":?") for u in uses), f"{name}: {uses}"
    with pytest.raises(ComposeError, match="required variable INFLUX_ADMIN_PASSWORD is missing"):
        compose(example)
    # Nothing that looks like a secret is written into the compose file itself.
    for service in compose()["services"].values():
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|TOKEN|KEY|SECRET", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{key}: {value}"


def test_ports_are_published_only_where_intended() -> None:
    published = {n: s.get("ports", []) for n, s in compose()["services"].items()}
    assert published == {
        "mosquitto": ["127.0.0.1:1883:1883"],  # anonymous broker: host loopback only
        "influxdb": ["127.0.0.1:8086:8086"],
        "grafana": ["3000:3000"],
        "simulator": [],
        "gateway": ["8080:8080"],  # API key required
    }


def test_gateway_config_validates_with_the_env_of_its_container() -> None:
    env = gateway_env()
    config = load_config(GATEWAY_CONFIG, env=env)
    assert config.api.host == "0.0.0.0" and config.api.api_key is not None
    assert config.api.api_key.get_secret_value() == filled_env()["OEE_API_KEY"]
    assert config.influxdb is not None and config.influxdb.token is not None
    assert config.influxdb.token.get_secret_value() == filled_env()["INFLUX_TOKEN"]
    # Every ${VAR} of the config is in the container's env, and nothing more.
    assert variables(parsed(GATEWAY_CONFIG)) == set(env)


def test_gateway_service_is_wired_to_the_other_services() -> None:
    services = compose(filled_env())["services"]
    gateway, grafana_env = services["gateway"], services["grafana"]["environment"]
    config = load_config(GATEWAY_CONFIG, env=gateway_env())
    final = dockerfile_stages()[-1]
    assert "./compose/config.yaml:/etc/oee-edge/config.yaml:ro" in gateway["volumes"]
    assert f"oee-edge-data:{config.gateway.data_dir}" in gateway["volumes"]
    assert instr(final, "WORKDIR") == [str(config.gateway.data_dir)]
    assert instr(final, "EXPOSE") == [str(config.api.port)]
    assert f"'http://127.0.0.1:{config.api.port}/health'" in healthcheck_argv()[-1]
    assert config.mqtt is not None and (config.mqtt.host, config.mqtt.port) == ("mosquitto", 1883)
    assert "listener 1883\n" in MOSQUITTO_CONF.read_text()
    influx = config.influxdb
    assert influx is not None and (influx.url, influx.api) == ("http://influxdb:8086", "v2")
    assert (influx.url, influx.database) == (grafana_env["INFLUX_URL"], grafana_env["INFLUX_DB"])
    assert influx.bucket == services["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert influx.org == services["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_ORG"]
    # SIGTERM, then up to stop_flush_s of delivering, then closing: well within the grace.
    assert grace_s() > config.outbox.stop_flush_s + 10


def test_gateway_reads_the_machines_the_simulator_serves() -> None:
    services = compose()["services"]
    command = services["simulator"]["command"]
    assert command[:2] == ["simulate", "demo"]
    port = int(command[command.index("--port") + 1])
    config = load_config(GATEWAY_CONFIG, env=gateway_env())
    scenario = {m.id: m.unit_id for m in load_scenario("demo").machines}
    read = {m.id: (m.modbus.host, m.modbus.port, m.modbus.unit_id) for m in config.machines}  # type: ignore[union-attr]
    assert read == {mid: ("simulator", port, unit) for mid, unit in scenario.items()}
    assert list(read) == MACHINES
    # The per-part fill weight chart reads the counter with the weight (the part record).
    assert split_reads(config) == []


def test_grafana_gets_the_variables_its_data_source_reads() -> None:
    grafana = compose(filled_env())["services"]["grafana"]
    env = grafana["environment"]
    sources = sorted((DEPLOY / "grafana" / "provisioning" / "datasources").glob("*.y*ml"))
    read = set().union(*(variables(parsed(s)) for s in sources))
    assert read == {"INFLUX_URL", "INFLUX_DB", "INFLUX_TOKEN"}
    assert read <= set(env)
    assert env["INFLUX_TOKEN"] == filled_env()["INFLUX_TOKEN"]
    # Grafana's dashboard provider reads the folder compose mounts the dashboards at.
    (provider,) = (DEPLOY / "grafana" / "provisioning" / "dashboards").glob("*.y*ml")
    paths = [p["options"]["path"] for p in yaml.safe_load(provider.read_text())["providers"]]
    assert paths == ["/var/lib/grafana/dashboards"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]


# ----------------------------------------------------------------------------- env example


def test_every_env_example_variable_is_used() -> None:
    used = variables(compose()) | variables(parsed(GATEWAY_CONFIG))
    assert set(env_example()) - used == set()


def test_check_accepts_the_compose_config_with_the_env_example() -> None:
    r = run([OEE_EDGE, "check", str(GATEWAY_CONFIG)], cli_env(**gateway_env()))
    assert (r.returncode, r.stderr) == (0, "")
    assert "OK — gateway compose-gw, 4 machine(s), 30 tag(s), MQTT mosquitto:1883" in r.stdout


@pytest.mark.parametrize(
    ("name", "path"), [("OEE_API_KEY", "api.api_key"), ("INFLUX_TOKEN", "influxdb.token")]
)
def test_check_names_a_missing_secret(name: str, path: str) -> None:
    env = gateway_env()
    del env[name]
    r = run([OEE_EDGE, "check", str(GATEWAY_CONFIG)], cli_env(**env))
    assert r.returncode == 1
    hint = f"(set it, or write ${{{name}:-default}})"
    assert f"  {path}: environment variable {name} is not set {hint}" in r.stderr.splitlines()


# ----------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """deploy/mosquitto/mosquitto.conf in the Debian broker, on a free loopback port."""
    workdir, port = tmp_path_factory.mktemp("mosquitto"), free_port()
    listener = f"listener {port} 127.0.0.1\n"
    conf = replace_once(MOSQUITTO_CONF.read_text(), "listener 1883\n", listener)
    conf = replace_once(conf, "/mosquitto/data/", f"{workdir}/")
    (workdir / "mosquitto.conf").write_text(conf)
    mosquitto = find_mosquitto()
    assert mosquitto, "mosquitto is not installed (make sysdeps)"
    with (workdir / "log").open("w+b") as log:
        argv = [mosquitto, "-c", str(workdir / "mosquitto.conf")]
        proc = subprocess.Popen(argv, stdout=log, stderr=log)
        wait_ready(proc, lambda: accepts(port), log, what="mosquitto", within_s=5)
        yield port
        stop(proc)


def compose_healthcheck(service: str, port: int) -> list[str]:
    """The service's healthcheck command, to run here instead of in its container."""
    test = compose(filled_env())["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return [sys.executable if a == "python" else a.replace("5020", str(port)) for a in test[1:]]


def test_mosquitto_config_runs_and_passes_the_compose_healthcheck(broker: int) -> None:
    check = compose_healthcheck("mosquitto", broker)
    i = check.index("-p") + 1
    assert check[i] == "1883"
    check[i] = str(broker)
    r = run(check)
    assert (r.returncode, r.stdout[:20]) == (0, "mosquitto version 2."), r.stderr
    check[i] = str(free_port())  # nothing listens there: unhealthy
    assert run(check).returncode != 0


def test_the_compose_gateway_runs_against_real_servers(
    broker: int, victoria_metrics: VictoriaServer, tmp_path: Path
) -> None:
    """The simulator and gateway services as processes: the simulator with the compose
    command, the gateway with the image's command, the compose config and its container's
    env, the other services' host names mapped to loopback servers."""
    sim_port, api_port = free_port(), free_port()
    config = local_config(tmp_path, broker, victoria_metrics.url, sim_port, api_port)
    command = compose()["services"]["simulator"]["command"]
    command[command.index("--host") + 1] = "127.0.0.1"  # tests stay on loopback
    command[command.index("--port") + 1] = str(sim_port)
    health = f"http://127.0.0.1:{api_port}/health"
    check = [sys.executable, *healthcheck_argv()[1:]]  # the image's HEALTHCHECK...
    on_port = [*check[:-1], replace_once(check[-1], "127.0.0.1:8080/", f"127.0.0.1:{api_port}/")]
    with contextlib.ExitStack() as stack:
        sim_log, log = (stack.enter_context((tmp_path / n).open("w+b")) for n in ("sim", "gw"))
        sim = spawn(stack, [OEE_EDGE, *command], sim_log, os.environ)
        wait_ready(sim, lambda: accepts(sim_port), sim_log, what="simulator", within_s=10)
        assert run(compose_healthcheck("simulator", sim_port)).returncode == 0
        gateway = spawn(stack, image_command(config), log, cli_env(**gateway_env()))
        wait_ready(gateway, lambda: answers(health), log, what="gateway", within_s=20)
        assert run(on_port).returncode == 0
        assert run(check, cli_env(OEE_HEALTH_URL=health)).returncode == 0  # ...or its URL
        reads_the_demo_machines(api_port, gateway_env()["OEE_API_KEY"], lambda: output(log))
        publishes_and_writes_them(broker, victoria_metrics)
        t0 = time.monotonic()
        gateway.terminate()
        assert gateway.wait(timeout=grace_s()) == 0, output(log)
        assert time.monotonic() - t0 < grace_s()
        assert run(on_port).returncode == 1  # down: unhealthy


def local_config(tmp_path: Path, mqtt: int, influx_url: str, modbus: int, api: int) -> Path:
    """deploy/compose/config.yaml with the service addresses on loopback; ${VAR}s kept."""
    raw = parsed(GATEWAY_CONFIG)
    raw["gateway"]["data_dir"] = str(tmp_path / "data")
    raw["mqtt"] = {"host": "127.0.0.1", "port": mqtt}
    raw["influxdb"]["url"] = influx_url
    raw["api"].update(host="127.0.0.1", port=api)
    for m in raw["machines"]:
        m["modbus"] = {**m["modbus"], "host": "127.0.0.1", "port": modbus}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(raw))
    return tmp_path / "config.yaml"


def image_command(config: Path) -> list[str]:
    """The image's ENTRYPOINT + CMD, with this checkout's oee-edge and `config`."""
    final = dockerfile_stages()[-1]
    argv = json.loads(instr(final, "ENTRYPOINT")[0]) + json.loads(instr(final, "CMD")[0])
    assert argv[0] == "oee-edge" and argv[-1] == "/etc/oee-edge/config.yaml"
    return [OEE_EDGE, *argv[1:-1], str(config)]


def spawn(
    stack: contextlib.ExitStack, argv: list[str], log: IO[bytes], env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env, cwd=REPO)
    stack.callback(stop, proc)
    return proc


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def reads_the_demo_machines(port: int, key: str, log: Callable[[], str]) -> None:
    url = f"http://127.0.0.1:{port}/api/v1/machines"
    assert httpx.get(url).status_code == 401  # the key from the env file is enforced
    deadline, states = time.monotonic() + 15, {}
    while time.monotonic() < deadline:
        answer = httpx.get(url, headers={"Authorization": f"Bearer {key}"}).json()
        states = {m["id"]: m.get("state") for m in answer}
        if not {None, "offline"} & set(states.values()):
            break
        time.sleep(0.2)
    assert list(states) == MACHINES and not {None, "offline"} & set(states.values()), log()


def publishes_and_writes_them(mqtt: int, vm: VictoriaServer) -> None:
    with MqttCollector("127.0.0.1", mqtt, ["oee/demo-plant/assembly/line1/+/state"]) as sub:
        got = sub.wait_for(lambda ms: {m.topic.split("/")[-2] for m in ms} >= set(MACHINES))
    assert all(m.retain for m in got)
    # Written with the v2 API, with org, bucket and token from the env.
    deadline, seen = time.monotonic() + 10, set()
    while time.monotonic() < deadline and seen != set(MACHINES):
        series = vm.export('{__name__="machine_state_code",site="demo-plant"}')
        seen = {s["metric"]["machine"] for s in series}
        time.sleep(0.3)
    assert seen == set(MACHINES)
