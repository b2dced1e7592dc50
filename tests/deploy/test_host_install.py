"""The Dockerfile (parsed: no docker daemon here) and the systemd unit
(`systemd-analyze verify` and `security`, `systemd-sysusers`)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

from edge.cli.main import build_parser
from edge.config import OutboxConfig
from tests.deploy.deployfiles import (
    REPO,
    SYSUSERS,
    UNIT,
    dockerfile_stages,
    healthcheck_argv,
    instr,
    replace_once,
    run,
    unit_value,
)
from tests.fixtures.gateway_process import OEE_EDGE

# ----------------------------------------------------------------------------- Dockerfile
# No docker here: the Dockerfile is parsed, not built.


def test_dockerfile_is_a_multi_stage_build_with_an_unprivileged_final_stage() -> None:
    stages = dockerfile_stages()
    assert [s[0][1] for s in stages] == ["python:3.11-slim AS builder", "python:3.11-slim"]
    final = stages[-1]
    (user,) = instr(final, "USER")
    uid = int(user.split(":")[0])
    assert uid == 10001 and f"--uid {uid} " in " ".join(instr(final, "RUN"))
    # The final stage takes only the venv from the builder, nothing from the context.
    assert instr(final, "COPY") == ["--from=builder /opt/oee-edge /opt/oee-edge"]
    assert instr(final, "EXPOSE") == ["8080"]
    assert instr(final, "VOLUME") == ['["/var/lib/oee-edge"]']
    assert [json.loads(a) for a in instr(final, "ENTRYPOINT")] == [["oee-edge"]]
    (cmd,) = [json.loads(a) for a in instr(final, "CMD")]
    args = build_parser().parse_args(cmd)  # the real CLI accepts the default command
    assert (args.command, args.config) == ("run", "/etc/oee-edge/config.yaml")
    assert healthcheck_argv()[:2] == ["python", "-c"]  # slim has no curl
    remote_adds = [a for s in stages for a in instr(s, "ADD") if re.search(r"https?://|git@", a)]
    assert remote_adds == []


def test_dockerfile_copies_what_the_wheel_is_built_from() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        p.name for p in REPO.iterdir()
        if (p / "__init__.py").exists() and any(fnmatch.fnmatch(p.name, pat) for pat in patterns)
    }  # fmt: skip
    sources = {s for a in instr(dockerfile_stages()[0], "COPY") for s in a.split()[:-1]}
    assert sources == {"pyproject.toml", project["project"]["readme"]} | packages
    ignored = [ln for ln in (REPO / ".dockerignore").read_text().splitlines() if ln[:1] not in "#"]
    assert {".git", ".venv", "**/node_modules", "deploy/.env", "data", "tests"} <= set(ignored)
    for src in sources:
        hits = [p for p in ignored if fnmatch.fnmatch(src, p.removeprefix("**/"))]
        assert hits == [], f"{src} is copied but .dockerignore excludes it"


# ----------------------------------------------------------------------------- systemd


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify fails on an ExecStart binary that does not exist, and /opt/oee-edge (where
    # the install puts the venv) does not here: the copy runs the same console script
    # from this checkout's venv. Everything else is verified as written.
    text = replace_once(UNIT.read_text(), "=/opt/oee-edge/bin/oee-edge ", f"={OEE_EDGE} ")
    copy = tmp_path / "oee-edge.service"
    copy.write_text(text)
    r = run(["systemd-analyze", "verify", "--man=no", str(copy)])
    assert (r.returncode, r.stdout + r.stderr) == (0, "")
    # verify only warns (exit 0) on an unknown key: the empty output is what counts.
    copy.write_text(text.replace("RestartSec=", "RestartSecs="))
    r = run(["systemd-analyze", "verify", "--man=no", str(copy)])
    assert "Unknown key 'RestartSecs' in section [Service]" in r.stderr


def test_unit_runs_the_gateway_as_its_own_user_and_restarts_it() -> None:
    argv = unit_value("Service", "ExecStart").split()
    assert argv[0] == "/opt/oee-edge/bin/oee-edge"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.config) == ("run", "/etc/oee-edge/config.yaml")
    # No sd_notify in the gateway, so systemd cannot be told "ready": Type=exec.
    assert unit_value("Service", "Type") == "exec"
    assert not any("NOTIFY_SOCKET" in p.read_text() for p in (REPO / "edge").glob("*.py"))
    expected = {
        "User": "oee-edge", "Restart": "always", "RestartSec": "5", "KillSignal": "SIGTERM",
        "EnvironmentFile": "-/etc/oee-edge/oee-edge.env", "StateDirectory": "oee-edge",
        "ReadWritePaths": "/var/lib/oee-edge", "WorkingDirectory": "/var/lib/oee-edge",
        "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
        "PrivateTmp": "yes",
    }  # fmt: skip
    assert {k: unit_value("Service", k) for k in expected} == expected
    stop_s = int(unit_value("Service", "TimeoutStopSec"))
    assert stop_s > OutboxConfig().stop_flush_s + 10  # SIGKILL only after the flush


def test_unit_exposure_is_low() -> None:
    r = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(UNIT)])
    level = re.search(r"Overall exposure level for oee-edge\.service: (\d+\.\d)", r.stdout)
    assert r.returncode == 0 and level is not None, r.stdout[-2000:]
    assert float(level[1]) <= 2.0


def test_sysusers_file_creates_the_unit_user(tmp_path: Path) -> None:
    (tmp_path / "etc" / "sysusers.d").mkdir(parents=True)
    (tmp_path / "etc" / "sysusers.d" / "oee-edge.conf").write_text(SYSUSERS.read_text())
    r = run(["systemd-sysusers", f"--root={tmp_path}"])
    assert r.returncode == 0, r.stderr
    (entry,) = (tmp_path / "etc" / "passwd").read_text().splitlines()
    name, _, _, _, _, home, shell = entry.split(":")
    assert (name, home, shell) == ("oee-edge", "/var/lib/oee-edge", "/usr/sbin/nologin")
    assert name == unit_value("Service", "User")
