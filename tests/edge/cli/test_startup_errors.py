"""`oee-edge run`, `demo` and `check --connect` on a machine that cannot give the config
what it asks (a data_dir that is a file or not writable, an API port in use): one line
naming the config field and the fix, exit code 1 (3 for check --connect), no traceback,
and nothing started."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.gateway_process import OEE_EDGE, REPO_ROOT
from tests.fixtures.ports import free_port

KEY = "0123456789abcdef0123"


def config(
    tmp_path: Path, data_dir: Path | str, extra: str = "", api: str = "", port: int = 0
) -> Path:
    path = tmp_path / "gw.yaml"
    path.write_text(f"""gateway: {{id: gw1, data_dir: "{data_dir}"}}
site: s1
area: a1
line: l1
api: {{port: {port or free_port()}{api}}}
machines:
  - id: m1
    modbus: {{host: 127.0.0.1, port: {free_port()}}}
    tags: {{code: {{address: 0}}}}
    ideal_cycle_s: 2
{extra}""")
    return path


def oee_edge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OEE_EDGE, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )


def cannot_start(path: Path, line: str) -> None:
    """`oee-edge run -c path` exits 1 printing exactly `line` (after `path: cannot start: `)."""
    r = oee_edge("run", "-c", str(path))
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"{path}: cannot start: {line}\n")


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    f = tmp_path / "not-a-dir"
    f.write_text("x")
    return f


def test_a_data_dir_that_is_a_file(tmp_path: Path, a_file: Path) -> None:
    cannot_start(
        config(tmp_path, a_file),
        f"gateway.data_dir: {a_file} is a file, not a directory: point gateway.data_dir at a "
        "directory",
    )


def test_a_data_dir_under_a_file(tmp_path: Path, a_file: Path) -> None:
    cannot_start(
        config(tmp_path, a_file / "data"),
        f"gateway.data_dir: {a_file / 'data'} cannot be created: {a_file} is a file: point "
        "gateway.data_dir at a directory",
    )


def test_a_data_dir_nobody_may_write(tmp_path: Path) -> None:
    # /sys refuses new files to every user, root too (a chmod does not stop root).
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    cannot_start(
        config(tmp_path, "/sys"),
        f"gateway.data_dir: /sys is not writable by user {user} (Permission denied): give that "
        "user write access, or point gateway.data_dir elsewhere",
    )


def test_an_outbox_path_that_is_a_directory(tmp_path: Path) -> None:
    cannot_start(
        config(tmp_path, tmp_path / "data", f"outbox: {{path: '{tmp_path}'}}\n"),
        f"outbox.path: {tmp_path} is a directory: point outbox.path at a file",
    )


def test_an_api_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        cannot_start(
            config(tmp_path, tmp_path / "data", port=port),
            f"api.port: {port} is in use on 127.0.0.1 (another program, or another gateway, "
            "listens there): stop it or set another api.port",
        )


def test_an_api_host_that_is_not_this_machine(tmp_path: Path) -> None:
    path = config(tmp_path, tmp_path / "data", api=f", host: 192.0.2.1, api_key: {KEY}")
    cannot_start(
        path,
        "api.host: 192.0.2.1 is not an address of this machine: write one of this machine's "
        "addresses, 0.0.0.0 (every one) or 127.0.0.1",
    )


def test_demo_with_a_data_dir_that_is_a_file(a_file: Path) -> None:
    r = oee_edge("demo", "--data-dir", str(a_file))
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "",
        f"oee-edge demo: cannot start: --data-dir: {a_file} is a file, not a directory: point "
        "--data-dir at a directory\n",
    )  # fmt: skip


def test_check_connect_names_the_data_dir(tmp_path: Path, a_file: Path) -> None:
    path = config(tmp_path, a_file)
    r = oee_edge("check", str(path), "--connect", "--timeout", "1")
    assert r.returncode == 3, r.stderr
    assert r.stdout.splitlines()[1] == (
        f"FAIL gateway.data_dir {a_file}: is a file, not a directory: point gateway.data_dir at "
        "a directory"
    )
    r = oee_edge("check", str(config(tmp_path, tmp_path / "new" / "data")), "--connect")
    assert r.stdout.splitlines()[1] == f"ok   gateway.data_dir {tmp_path}/new/data (writable)"
    assert not (tmp_path / "new").exists()  # check looks, it does not create
