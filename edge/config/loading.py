"""Load a YAML config into `edge.config.Config`, with secrets from the environment or files.

In any string value, `${NAME}` is replaced by the environment variable NAME,
`${NAME:-default}` falls back to `default`, and `${file:/path}` is the content of a
file (trailing newline stripped) — so passwords and tokens never sit in the config.
Every problem is reported with its path, e.g. `machines[2].tags.speed.type: ...`.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from edge.config import Config

_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_REF = re.compile(r"\$\{(file:)?([^}:]+?)(?::-([^}]*))?\}")
_RULE_TAGS = {"map", "bool", "counter"}
_TAG_KINDS = {"modbus", "opcua"}


class _Loader(yaml.SafeLoader):
    """YAML 1.1 without base-60 numbers: unquoted `14:00` stays the text "14:00" (as in
    YAML 1.2), not the integer 840, so times of day need no quotes."""


_Loader.yaml_implicit_resolvers = {
    first: ([("tag:yaml.org,2002:str", _SEXAGESIMAL)] if first in "+-0123456789" else [])
    + resolvers
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class ConfigIssue:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """The config cannot be used; `issues` lists every problem with its path."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  {i}" for i in issues)
        super().__init__(f"{source}: {len(issues)} problem(s) in the configuration:\n{lines}")


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    """Read, substitute and validate a config file. Raises ConfigError."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(source, [ConfigIssue("", f"cannot read the file: {e.strerror}")]) from e
    return parse_config(text, source, env)


def parse_config(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Validate YAML text as a Config. Raises ConfigError."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(source, [ConfigIssue("", f"{where}invalid YAML: {problem}")]) from e
    if not isinstance(raw, dict):
        raise ConfigError(source, [ConfigIssue("", "the file must hold a YAML mapping")])
    issues: list[ConfigIssue] = []
    data = _substitute(raw, (), os.environ if env is None else env, issues)
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(source, issues + [_issue(err) for err in e.errors()]) from e
    if issues:
        raise ConfigError(source, issues)
    return config


def _substitute(node: Any, loc: tuple[Any, ...], env: Any, issues: list[ConfigIssue]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, (*loc, k), env, issues) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, (*loc, i), env, issues) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node

    def replace(m: re.Match[str]) -> str:
        is_file, name, default = m.group(1), m.group(2), m.group(3)
        if is_file:
            try:
                return Path(name).read_text(encoding="utf-8").rstrip("\n")
            except OSError as e:
                issues.append(ConfigIssue(format_path(loc), f"cannot read {name}: {e.strerror}"))
                return ""
        if name in env:
            return str(env[name])
        if default is not None:
            return default
        issues.append(
            ConfigIssue(
                format_path(loc),
                f"environment variable {name} is not set (set it, or write ${{{name}:-default}})",
            )
        )
        return ""

    return _REF.sub(replace, node)


def format_path(loc: tuple[Any, ...]) -> str:
    """('machines', 2, 'tags', 'speed', 'type') -> 'machines[2].tags.speed.type'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic puts the chosen union member's tag into the path; users never wrote it.
    out: list[Any] = []
    for i, part in enumerate(loc):
        parent = loc[i - 2] if i >= 2 else None
        rule_kind = parent == "state_rules" and isinstance(loc[i - 1], int) and part in _RULE_TAGS
        tag_kind = parent == "tags" and part in _TAG_KINDS
        if not (rule_kind or tag_kind):
            out.append(part)
    return tuple(out)


def _issue(err: Any) -> ConfigIssue:
    raw = tuple(err["loc"])
    loc = _clean_loc(raw)
    msg: str = err["msg"]
    if err["type"] == "extra_forbidden":
        allowed = _fields_at(raw[:-1])
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        msg = f"unknown field; {hint}allowed here: {', '.join(allowed)}"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif msg.startswith("Value error, "):
        msg = msg.removeprefix("Value error, ")
    return ConfigIssue(format_path(loc), msg)


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found at `loc` in Config, for 'did you mean' hints."""
    t: Any = Config
    for part in loc:
        t = _step(t, part)
    model = _first_model(t)
    return sorted(model.model_fields) if model is not None else []


def _step(t: Any, part: Any) -> Any:
    if _is_model(t):
        field = t.model_fields.get(part)
        return field.annotation if field is not None else None
    origin = get_origin(t)
    if origin is dict:
        return get_args(t)[1]
    if origin is list:
        return get_args(t)[0]
    for arg in get_args(t):  # a tagged union member named in the path (e.g. "opcua")
        if any(getattr(m, "tag", None) == part for m in getattr(arg, "__metadata__", ())):
            return get_args(arg)[0]
    for arg in get_args(t):  # unions, Optional, Annotated
        found = _step(arg, part)
        if found is not None:
            return found
    return None


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _first_model(t: Any) -> Any:
    if _is_model(t):
        return t
    for arg in get_args(t):
        found = _first_model(arg)
        if found is not None:
            return found
    return None
