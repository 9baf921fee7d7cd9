"""Reading the shapes of Atlassian's JSON answers without trusting them.

A probe reads an answer as `JsonObject` (`Mapping[str, object]`) and narrows each value it uses, so a
value of an unexpected type is never taken for evidence.
"""

from __future__ import annotations

from collections.abc import Mapping

JsonObject = Mapping[str, object]


def member(value: object) -> JsonObject:
    """A nested object of an answer: itself, or empty when absent (None, "", missing). Another shape
    raises TypeError, which the engine turns into an error step (not evidence either way)."""
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    raise TypeError(f"expected a JSON object, got {type(value).__name__}")


def text(value: object) -> str | None:
    """A scalar field as text (None when absent)."""
    return None if value is None else str(value)


def array(value: object) -> list[object]:
    """A nested list of an answer: itself, or empty when absent. Another shape raises TypeError."""
    if isinstance(value, list):
        return value
    if not value:
        return []
    raise TypeError(f"expected a JSON array, got {type(value).__name__}")


def count(*values: object) -> int:
    """The first of `values` that is set, as a whole number (0 when none is). A value `int()` cannot
    read raises, as `int()` does."""
    value = next((v for v in values if v), 0)
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")
