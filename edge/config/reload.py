"""What a config reload may change: everything but the `api` section.

The API server keeps serving across a reload (its socket, its middleware, its keys are
set up once at start), so a file whose `api` section differs is refused as a whole
rather than half applied.
"""

from __future__ import annotations

from pathlib import Path

from edge.config import ApiConfig, Config
from edge.config.loading import ConfigError, ConfigIssue, load_config
from edge.config.preflight import check_places

__all__ = ["RestartNeeded", "api_changes", "read_for_reload"]


class RestartNeeded(Exception):
    """The new config changes what only a restart of the process can apply."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        super().__init__(
            f"restart needed for {', '.join(fields)}: the API's address, keys and CORS are "
            "set up at start; the running configuration is unchanged"
        )


def api_changes(old: ApiConfig, new: ApiConfig) -> list[str]:
    """The paths of the `api` fields that differ, e.g. ['api.port', 'api.keys']. Only
    names: the values (keys!) never appear in a message."""
    fields = ApiConfig.model_fields
    return [f"api.{name}" for name in fields if getattr(old, name) != getattr(new, name)]


def read_for_reload(path: str | Path, api: ApiConfig) -> Config:
    """The config in `path`, valid, with the `api` section the API runs with, and places
    to write that the new gateway can use. Raises `ConfigError` (every problem, with its
    path) or `RestartNeeded`."""
    config = load_config(path)
    changed = api_changes(api, config.api)
    if changed:
        raise RestartNeeded(changed)
    unusable = [p for p in check_places(config, create=True) if p.problem is not None]
    if unusable:
        issues = [ConfigIssue(p.field, f"{p.path} {p.problem}") for p in unusable]
        raise ConfigError(str(path), issues)
    return config
