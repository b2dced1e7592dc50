"""Shared by the deployment-file tests: the files' paths, compose's ${VAR} interpolation
(a small re-implementation), and parsers for the Dockerfile and the systemd unit."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
GATEWAY_CONFIG = DEPLOY / "compose" / "config.yaml"
ENV_EXAMPLE = DEPLOY / "oee-edge.env.example"
MOSQUITTO_CONF = DEPLOY / "mosquitto" / "mosquitto.conf"
UNIT = DEPLOY / "systemd" / "oee-edge.service"
SYSUSERS = DEPLOY / "systemd" / "oee-edge.sysusers"
DOCKERFILE = REPO / "Dockerfile"
SCHEMA = Path(__file__).with_name("compose-spec.json")
# Fetched once, unmodified, from github.com/compose-spec/compose-spec, schema/compose-spec.json.
SCHEMA_SOURCE = "compose-spec/compose-spec@00655e2222608fa6eaecdf12ac5195889ca2244a"
SCHEMA_SHA256 = "bc50c2d79102aed8df21b3a13e56c9396c7a06da6cff5ce37629f2ee7eb41735"
# The env example leaves these empty: each user sets their own.
SECRETS = {"INFLUX_ADMIN_PASSWORD", "INFLUX_TOKEN", "OEE_API_KEY", "GRAFANA_ADMIN_PASSWORD"}
MACHINES = ["press1", "press2", "packer1", "filler1"]

# ----------------------------------------------------------------------------- helpers

_INTERP = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?)([-?+])([^}]*))?\}|(\w+))")


class ComposeError(Exception):
    """What `docker compose` would refuse."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR:?error}, ..."""

    def one(m: re.Match[str]) -> str:
        if m[1]:
            return "$"
        name, colon, op, arg = m[2] or m[6], m[3], m[4], m[5]
        value = env.get(name)
        missing = value is None or (colon == ":" and value == "")
        if op == "?" and missing:
            raise ComposeError(f"required variable {name} is missing a value: {arg}")
        if op == "-" and missing:
            return arg
        if op == "+":
            return "" if missing else arg
        return value or ""

    return _INTERP.sub(one, text)


def deep(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: deep(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [deep(v, env) for v in node]
    return interpolate(node, env) if isinstance(node, str) else node


def variables(node: Any) -> set[str]:
    """The variables the string values of parsed YAML refer to (comments do not count)."""
    if isinstance(node, dict):
        return set().union(*(variables(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(variables(v) for v in node))
    if isinstance(node, str):
        return {m[2] or m[6] for m in _INTERP.finditer(node) if not m[1]}
    return set()


def parsed(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def env_example() -> dict[str, str]:
    """KEY=value lines, in the subset both compose and systemd's EnvironmentFile read."""
    out = {}
    for n, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(\S*)", line)
            assert m, f"{ENV_EXAMPLE.name}:{n}: not KEY=value: {line!r}"
            out[m[1]] = m[2]
    return out


def filled_env() -> dict[str, str]:
    """The env example after the user's step: every empty secret given a value."""
    return {k: v or f"{k.lower()}-5e1f0c0a9d" for k, v in env_example().items()}


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    raw = yaml.safe_load(COMPOSE.read_text())
    return raw if env is None else deep(raw, env)


def gateway_env() -> dict[str, str]:
    """The gateway container's environment, as compose fills it from the env file."""
    env = compose(filled_env())["services"]["gateway"]["environment"]
    return {k: str(v) for k, v in env.items()}


def grace_s() -> int:
    return int(compose()["services"]["gateway"]["stop_grace_period"].removesuffix("s"))


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per FROM stage, continuation lines joined."""
    stages: list[list[tuple[str, str]]] = []
    for line in re.sub(r"\\\n", " ", DOCKERFILE.read_text()).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            cmd, _, args = line.partition(" ")
            if cmd.upper() == "FROM":
                stages.append([])
            stages[-1].append((cmd.upper(), args.strip()))
    return stages


def instr(stage: list[tuple[str, str]], name: str) -> list[str]:
    return [args for cmd, args in stage if cmd == name]


def healthcheck_argv() -> list[str]:
    (args,) = instr(dockerfile_stages()[-1], "HEALTHCHECK")
    argv: list[str] = json.loads(args.split(" CMD ", 1)[1])
    return argv


def unit_entries(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        elif line.strip() and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            current.append((key, value))
    return sections


def unit_value(section: str, key: str) -> str:
    (value,) = [v for k, v in unit_entries(UNIT.read_text())[section] if k == key]
    return value


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"expected {old!r} once"
    return text.replace(old, new)


def run(argv: list[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, cwd=REPO)


def cli_env(**overrides: str) -> dict[str, str]:
    """os.environ without the example's variables, plus `overrides`."""
    base = {k: v for k, v in os.environ.items() if k not in env_example()}
    return {**base, **overrides}
