"""Configuration model of the embedded SQLite store (`sqlite:`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from core.config import Model

__all__ = ["SqliteConfig"]


class SqliteConfig(Model):
    path: Path = Path("oee-edge.sqlite")
    retention_days: float | None = Field(
        default=365,
        gt=0,
        description="states, counts and OEE older than this are deleted (null: kept)",
    )
    tag_retention_days: float | None = Field(
        default=7,
        gt=0,
        description="raw tag values (publish_tags) older than this are deleted (null: kept)",
    )
