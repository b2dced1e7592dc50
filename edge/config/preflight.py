"""Before the gateway starts: can it write where the config says it keeps its data?

A data_dir that is a file, or that its user may not write, used to surface as a raw
traceback from deep inside SQLite or `mkdir`; here each place is tried first and a
refusal names its field (`gateway.data_dir: /var/lib/oee-edge is a file, not a
directory: point gateway.data_dir at a directory`). `oee-edge run` creates the
directories (as the gateway would); `oee-edge check --connect` only looks.
"""

from __future__ import annotations

import os
import pwd
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edge.config import Config

__all__ = ["Place", "check_places", "directory_problem", "places"]


@dataclass(frozen=True)
class Place:
    """A place the gateway writes: its config field, its path, and what is wrong (None:
    nothing)."""

    field: str
    path: Path
    problem: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.path} {self.problem or 'is writable'}"


def places(config: Config, data_dir_name: str = "gateway.data_dir") -> list[tuple[str, Path, bool]]:
    """(field, path, is a directory) of every place the gateway writes: the data_dir
    (outbox, checkpoints, embedded store, OPC UA certificates), and the outbox and the
    embedded store where the config puts them elsewhere."""
    out = [(data_dir_name, config.gateway.data_dir, True)]
    if config.outbox.path is not None:
        out.append(("outbox.path", config.outbox.path, False))
    if config.sqlite is not None and config.sqlite.path is not None and config.influxdb is None:
        out.append(("sqlite.path", config.sqlite.path, False))  # the embedded store, elsewhere
    return out


def check_places(
    config: Config, *, create: bool, data_dir_name: str = "gateway.data_dir"
) -> list[Place]:
    """Each place with its problem, if any. With `create`, missing directories are made
    (as the gateway makes them at its start), else only their parents are looked at."""
    return [
        Place(field, path, _problem(path, field, is_dir, create))
        for field, path, is_dir in places(config, data_dir_name)
    ]


def directory_problem(path: Path, field: str, *, create: bool) -> str | None:
    """What keeps the gateway from keeping files in `path` (the value of `field`), or
    None; with `create`, the directory is made if it is missing."""
    return _problem(path, field, True, create)


def _problem(path: Path, field: str, is_dir: bool, create: bool) -> str | None:
    try:
        return _dir_problem(path, field, create) if is_dir else _file_problem(path, field, create)
    except OSError as e:  # e.g. a parent this user may not enter: even a stat fails
        return f"cannot be reached ({e.strerror}): point {field} elsewhere"


def _dir_problem(path: Path, field: str, create: bool) -> str | None:
    if path.exists() and not path.is_dir():
        return f"is a file, not a directory: point {field} at a directory"
    return _writable(path, field, create, hint=f"point {field} at a directory")


def _file_problem(path: Path, field: str, create: bool) -> str | None:
    if path.is_dir():
        return f"is a directory: point {field} at a file"
    problem = _writable(path.parent, field, create, hint=f"point {field} into a directory")
    if problem is None and path.exists():
        problem = _write_error(path, field, opened=True)
    return problem


def _writable(directory: Path, field: str, create: bool, hint: str) -> str | None:
    """Why files cannot be made in `directory` (made first with `create`), or None."""
    base = _nearest_existing(directory)
    if not base.is_dir():
        return f"cannot be created: {base} is a file: {hint}"
    if create and base != directory:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            return f"cannot be created ({e.strerror}): point {field} elsewhere"
        base = directory
    problem = _write_error(base, field, opened=False)
    if problem is not None and base != directory:
        return f"cannot be created: {base} {problem}"
    return problem


def _nearest_existing(path: Path) -> Path:
    """`path` or its nearest ancestor that exists (a relative path: from the cwd)."""
    for candidate in (path, *path.absolute().parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _write_error(path: Path, field: str, *, opened: bool) -> str | None:
    """Why this user cannot write `path` (a directory: a file in it; else the file), by
    trying: `os.access` says yes to root even where the kernel says no (/sys, a read-only
    mount). The directory gets no new entry (an unnamed temporary file)."""
    try:
        if opened:
            path.open("ab").close()
        else:
            tempfile.TemporaryFile(dir=path).close()
    except OSError as e:
        return (
            f"is not writable by user {_user()} ({e.strerror}): give that user write "
            f"access, or point {field} elsewhere"
        )
    return None


def _user() -> str:
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a name (containers)
        return f"uid {uid}"
