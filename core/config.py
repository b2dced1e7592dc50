"""The base of every configuration model: unknown keys are errors (a typo must not be
silently ignored) and a loaded config is frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Model"]


class Model(BaseModel):
    """A section of the configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
