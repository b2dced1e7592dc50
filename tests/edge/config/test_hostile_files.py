"""Files that are not what a config should be: `oee-edge check` refuses each one with the
file and the line, quickly, in bounded memory, without a traceback, and never prints a
byte of a secret file."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.gateway_process import OEE_EDGE

MINIMAL = """gateway: {id: gw1}
site: s1
area: a1
line: l1
machines:
  - id: m1
    modbus: {host: 127.0.0.1}
    tags: {code: {address: 0}}
    ideal_cycle_s: 2
"""
SECRET = b"hunter2\xff\xfeTOPSECRET"
# "Billion laughs": 9 levels of 9 aliases, 9**9 values once expanded.
BOMB = "gateway: {id: gw1}\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
MEMORY_LIMIT = 512 * 2**20  # address space of the `check` process; it needs about 200 MB


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def check(path: Path, env: dict[bytes, bytes] | None = None) -> subprocess.CompletedProcess[bytes]:
    """`oee-edge check PATH` within 20 s and MEMORY_LIMIT (bytes out: nothing decoded)."""
    return subprocess.run(
        [OEE_EDGE, "check", str(path)], capture_output=True, timeout=20,
        preexec_fn=_limit_memory, env=env,
    )  # fmt: skip


def refused(path: Path, *problems: str, env: dict[bytes, bytes] | None = None) -> bytes:
    """Asserts `check` exits 1 printing exactly `problems`; returns everything printed."""
    r = check(path, env)
    lines = [f"{path}: {len(problems)} problem(s) in the configuration:"]
    assert (r.returncode, r.stdout, r.stderr.decode()) == (
        1, b"", "\n".join(lines + [f"  {p}" for p in problems]) + "\n"
    )  # fmt: skip
    return r.stdout + r.stderr


def test_a_config_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINIMAL.replace("site: s1", "site: caf\xe9").encode("latin-1"))
    refused(path, "line 2, column 10: not UTF-8 text; save the file as UTF-8")


def test_run_refuses_it_as_check_does(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINIMAL.replace("site: s1", "site: caf\xe9").encode("latin-1"))
    r = subprocess.run([OEE_EDGE, "run", "-c", str(path)], capture_output=True, timeout=30)
    assert (r.returncode, r.stdout, r.stderr.decode()) == (
        1, b"", f"{path}: 1 problem(s) in the configuration:\n"
        "  line 2, column 10: not UTF-8 text; save the file as UTF-8\n",
    )  # fmt: skip


def test_a_secret_file_that_is_not_utf8_is_refused_without_its_bytes(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_bytes(b"first line\n" + SECRET)
    path = tmp_path / "gw.yaml"
    path.write_text(MINIMAL + f"mqtt: {{username: u, password: '${{file:{secret}}}'}}\n")
    out = refused(path, f"mqtt.password: {secret}, line 2: not UTF-8 text; save the file as UTF-8")
    assert b"hunter2" not in out and b"TOPSECRET" not in out and b"first line" not in out


def test_an_environment_variable_that_is_not_utf8_is_refused_without_its_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text(MINIMAL + "mqtt: {username: u, password: '${MQTT_PASSWORD}'}\n")
    env = {**os.environb, b"MQTT_PASSWORD": SECRET}
    out = refused(
        path,
        "mqtt.password: environment variable MQTT_PASSWORD is not UTF-8 text; set it as UTF-8",
        env=env,
    )
    assert b"hunter2" not in out and b"TOPSECRET" not in out


def test_an_alias_bomb_is_refused_at_once_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    refused(
        path,
        "line 7, column 20: *e expands the document past 300000 values (nested aliases); "
        "a gateway's configuration holds far fewer",
    )


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(MINIMAL + "oee: &o {windows: [1h], extra: *o}\n")
    refused(path, "line 10, column 32: *o repeats the part that holds it; an alias repeats a "
            "finished part")  # fmt: skip


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(MINIMAL + "x: " + "[" * 5000 + "]" * 5000 + "\n")
    refused(path, "line 10, column 35: nested deeper than 32 levels; a gateway's "
            "configuration nests far less")  # fmt: skip


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(MINIMAL + ("# " + "x" * 1021 + "\n") * 4096)
    refused(path, "the file is larger than 4 MiB: a gateway's configuration is far smaller; "
            "is it the right file?")  # fmt: skip


@pytest.mark.parametrize("source", ["big", "/dev/zero"])
def test_a_huge_secret_file_is_refused(source: str, tmp_path: Path) -> None:
    secret = Path(source) if source.startswith("/") else tmp_path / "token"
    if source == "big":
        secret.write_bytes(b"t" * (64 * 1024 + 1))
    path = tmp_path / "gw.yaml"
    path.write_text(MINIMAL + f"influxdb: {{url: 'http://db:8086', token: '${{file:{secret}}}'}}\n")
    refused(
        path,
        f"influxdb.token: {secret} is larger than 64 KiB: a secret file holds one password, "
        "token or key; is it the right file?",
    )


def test_a_control_character_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ctrl.yaml"
    path.write_text(MINIMAL.replace("site: s1", "site: s\x011"))
    refused(path, "line 2, column 8: invalid YAML: special characters are not allowed (#x0001)")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    refused(tmp_path, "cannot read the file: Is a directory")
