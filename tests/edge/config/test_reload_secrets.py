"""A reload of a file that is not UTF-8, or whose secret file is not, on a real
`oee-edge run`: SIGHUP logs the refusal with the file and line, `POST
/api/v1/config/reload` answers it as a 422, the gateway runs on unchanged, and not one
byte of the secret (or of the file) reaches the log or the answer. A data_dir the new
gateway could not write is refused the same way, before the running one stops."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.edge.config.test_reload import hangup
from tests.fixtures.gateway_process import GatewayProcess
from tests.fixtures.ports import free_port

ADMIN = "adm-5e0c1d9b7a3f4e62"
SECRET = b"hunter2\xff\xfeTOPSECRET"
REFUSED = "reload refused, still running the previous configuration: "


def config_text(tmp_path: Path, api_port: int, mqtt: str = "", data: str = "data") -> str:
    key = tmp_path / "admin-key"
    key.write_text(ADMIN + "\n")
    return f"""gateway: {{id: gw-secrets, data_dir: "{tmp_path / data}"}}
site: plant
area: area1
line: l1
api: {{port: {api_port}, api_key: "${{file:{key}}}"}}
{mqtt}machines:
  - id: m1
    modbus: {{host: 127.0.0.1, port: {free_port()}, poll_interval_s: 0.5}}
    tags: {{code: {{address: 0}}}}
    ideal_cycle_s: 2
"""


def wait_log(gw: GatewayProcess, text: bytes, within_s: float = 15) -> bytes:
    """The log once it holds `text` (the gateway must keep running meanwhile)."""
    deadline = time.monotonic() + within_s
    while text not in (log := gw.log.read_bytes()):
        assert gw.running, f"the gateway exited:\n{gw.log_tail()}"
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{gw.log_tail()}"
        time.sleep(0.05)
    return log


def serving(api_port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_serving(gw: GatewayProcess, within_s: float = 20) -> None:
    deadline = time.monotonic() + within_s
    while not serving(gw.api_port):
        assert gw.running and time.monotonic() < deadline, gw.log_tail()
        time.sleep(0.05)


def reload_over_http(api_port: int) -> httpx.Response:
    url = f"http://127.0.0.1:{api_port}/api/v1/config/reload"
    return httpx.post(url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)


def test_a_bad_secret_or_file_is_refused_on_reload_without_a_byte_of_it(tmp_path: Path) -> None:
    api_port, path = free_port(), tmp_path / "gw.yaml"
    path.write_text(config_text(tmp_path, api_port))
    gw = GatewayProcess(path, tmp_path / "gateway.log", api_port)
    secret = tmp_path / "mqtt-password"
    secret.write_bytes(SECRET)
    gw.start()
    try:
        wait_serving(gw)
        mqtt = f"mqtt: {{username: u, password: '${{file:{secret}}}'}}\n"
        path.write_text(config_text(tmp_path, api_port, mqtt))
        problem = f"mqtt.password: {secret}, line 1: not UTF-8 text; save the file as UTF-8"
        hangup(gw)
        wait_log(gw, f"{REFUSED}{path}: 1 problem(s) in the configuration:\n  {problem}\n".encode())
        r = reload_over_http(api_port)
        assert (r.status_code, r.json()["errors"]) == (
            422, [{"path": "mqtt.password", "message": problem.removeprefix("mqtt.password: ")}]
        )  # fmt: skip
        assert b"hunter2" not in r.content and b"TOPSECRET" not in r.content
        # The whole file in Latin-1: a comment with a password in it, then a bad byte.
        path.write_bytes(b"# mqtt password: hunter2 \xe9\n" + path.read_bytes())
        hangup(gw)
        problem = "line 1, column 26: not UTF-8 text; save the file as UTF-8"
        wait_log(gw, f"{REFUSED}{path}: 1 problem(s) in the configuration:\n  {problem}\n".encode())
        assert serving(api_port)  # still serving the previous configuration
        # A data_dir the new gateway could not write: refused before the old one stops.
        (tmp_path / "a-file").write_text("x")
        path.write_text(config_text(tmp_path, api_port, data="a-file"))
        problem = (
            f"gateway.data_dir: {tmp_path / 'a-file'} is a file, not a directory: point "
            "gateway.data_dir at a directory"
        )
        hangup(gw)
        wait_log(gw, f"{REFUSED}{path}: 1 problem(s) in the configuration:\n  {problem}\n".encode())
        r = reload_over_http(api_port)
        assert (r.status_code, r.json()["errors"]) == (
            422, [{"path": "gateway.data_dir", "message": problem.split(": ", 1)[1]}]
        )  # fmt: skip
        assert serving(api_port)
    finally:
        code, _ = gw.terminate()
    log = gw.log.read_bytes()
    assert code == 0, gw.log_tail()
    assert b"hunter2" not in log and b"TOPSECRET" not in log
    assert b"Traceback" not in log
