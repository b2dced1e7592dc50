"""Load a YAML config into `edge.config.Config`, with secrets from the environment or files.

In any string value, `${NAME}` is replaced by the environment variable NAME,
`${NAME:-default}` falls back to `default`, and `${file:/path}` is the content of a
file (trailing newlines stripped) — so passwords and tokens never sit in the config.
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
from yaml.reader import ReaderError

from edge.config import Config
from edge.config.reading import (
    MAX_CONFIG_BYTES,
    MAX_SECRET_BYTES,
    NotUtf8,
    Refused,
    TooLarge,
    decode_utf8,
    load_yaml,
    read_limited,
    size_text,
)
from oee.alarms import RULE_KINDS

_REF = re.compile(r"\$\{(file:)?([^}:]+?)(?::-([^}]*))?\}")
_RULE_TAGS = {"map", "bool", "counter"}
_TAG_KINDS = {"modbus", "opcua"}
_ALARM_KINDS = set(RULE_KINDS)


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
        text = decode_utf8(read_limited(Path(path), MAX_CONFIG_BYTES))
    except OSError as e:
        raise ConfigError(source, [ConfigIssue("", f"cannot read the file: {e.strerror}")]) from e
    except TooLarge:
        msg = f"the file is larger than {size_text(MAX_CONFIG_BYTES)}: {_NOT_A_CONFIG}"
        raise ConfigError(source, [ConfigIssue("", msg)]) from None
    except NotUtf8 as e:
        msg = f"{e}; save the file as UTF-8"
        raise ConfigError(source, [ConfigIssue("", msg)]) from None
    return parse_config(text, source, env)


_NOT_A_CONFIG = "a gateway's configuration is far smaller; is it the right file?"


def parse_config(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Validate YAML text as a Config. Raises ConfigError."""
    raw = _parse_yaml(text, source)
    if not isinstance(raw, dict):
        raise ConfigError(source, [ConfigIssue("", "the file must hold a YAML mapping")])
    issues: list[ConfigIssue] = []
    data = _substitute(raw, (), os.environ if env is None else env, issues)
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        # `from None`: pydantic's own text shows every input value, secrets too.
        raise ConfigError(source, issues + [_issue(err) for err in e.errors()]) from None
    if issues:
        raise ConfigError(source, issues)
    return config


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return load_yaml(text)
    except yaml.YAMLError as e:
        raise ConfigError(source, [ConfigIssue("", _yaml_problem(e, text))]) from None


def _yaml_problem(e: yaml.YAMLError, text: str) -> str:
    """`line L, column C: invalid YAML: …` (or the refusal, for a document too big)."""
    mark = getattr(e, "problem_mark", None)
    position = getattr(e, "position", None)  # a ReaderError: a character YAML forbids
    where = ""
    if mark is not None:
        where = f"line {mark.line + 1}, column {mark.column + 1}: "
    elif position is not None:
        where = _line_column(text, position)
    if isinstance(e, Refused):
        return f"{where}{e.problem}"
    if isinstance(e, ReaderError):
        return f"{where}invalid YAML: {e.reason} (#x{int(e.character):04x})"
    problem = getattr(e, "problem", None) or str(e)
    return f"{where}invalid YAML: {problem}"


def _line_column(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}: "


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
            return _secret_file(name, loc, issues)
        if name in env:
            return _env_value(name, str(env[name]), loc, issues)
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


def _secret_file(name: str, loc: tuple[Any, ...], issues: list[ConfigIssue]) -> str:
    """The text of `${file:name}` without its trailing newlines; "" after an issue. No
    message holds a byte of the file."""
    try:
        # "\r\n" too: a secret saved on Windows must not end in a carriage return.
        return decode_utf8(read_limited(Path(name), MAX_SECRET_BYTES)).rstrip("\r\n")
    except OSError as e:
        problem = f"cannot read {name}: {e.strerror}"
    except TooLarge:
        problem = (
            f"{name} is larger than {size_text(MAX_SECRET_BYTES)}: a secret file holds "
            "one password, token or key; is it the right file?"
        )
    except NotUtf8 as e:
        problem = f"{name}, line {e.line}: not UTF-8 text; save the file as UTF-8"
    issues.append(ConfigIssue(format_path(loc), problem))
    return ""


def _env_value(name: str, value: str, loc: tuple[Any, ...], issues: list[ConfigIssue]) -> str:
    """The variable's value; "" after an issue if it is not UTF-8 (Python keeps such bytes
    as lone surrogates, which no library could send and no log could print)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"environment variable {name} is not UTF-8 text; set it as UTF-8"
        issues.append(ConfigIssue(format_path(loc), msg))
        return ""
    return value


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
        if part == "[key]" and out:  # pydantic's mark of a mapping key that is wrong
            out[-1] = int(out[-1]) if str(out[-1]).lstrip("-").isdigit() else out[-1]
            continue
        parent = loc[i - 2] if i >= 2 else None
        kinds = {"state_rules": _RULE_TAGS, "rules": _ALARM_KINDS}.get(str(parent), set())
        rule_kind = isinstance(loc[i - 1], int) and part in kinds
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
