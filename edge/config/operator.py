"""The operator's input in the config: the reject-reason tree scrap is booked against
(`scrap_reasons:`, plant-wide and per machine), and the bounds of shift notes."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from core.config import Model
from edge.config.oee import category_path

__all__ = ["NOTE_MAX_CHARS", "ScrapReasonConfig"]

#: The longest shift note (characters): a hand-over text, not a document.
NOTE_MAX_CHARS = 4000


class ScrapReasonConfig(Model):
    """One entry of the reject-reason tree. YAML short form: `101: Scratch`."""

    text: str = Field(min_length=1, max_length=200)
    category: str | None = Field(default=None, description="'/'-separated path, e.g. Surface/Dent")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"text": data}
        if isinstance(data, dict | ScrapReasonConfig):
            return data
        raise ValueError("a reject reason is a text, or {text, category}")

    @field_validator("category")
    @classmethod
    def _category_path(cls, category: str | None) -> str | None:
        return category_path(category, "Surface/Dent")
