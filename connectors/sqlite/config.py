"""Configuration model of the embedded SQLite store (`sqlite:`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from core.config import Model, within

#: A retention: a day (the `day` and `shift` windows replay that much at a restart) to a
#: century (a `timedelta` of 1e308 days would stop the store's clean-up with an error).
Days = Annotated[float, within(1, 36500, "days")]

__all__ = ["SqliteConfig"]


class SqliteConfig(Model):
    path: Path | None = Field(
        default=None, description="the store's file; default: {gateway.data_dir}/oee.sqlite"
    )
    retention_days: Days | None = Field(
        default=365,
        description="states, counts and OEE older than this are deleted (null: kept)",
    )
    tag_retention_days: Days | None = Field(
        default=7,
        description="raw tag values (publish_tags) older than this are deleted (null: kept)",
    )
