"""How a category's value is written, shown and matched: one rule for targets, features and rows.

A label is what the data had: a string (stripped of surrounding spaces by the readers) or a
boolean; `None` stands for a missing cell where a list of values needs one (a missing category is a
category of its own). Numbers sent for a category column (a predict row's `3` for the label "3")
match by their shortest text form.
"""

from __future__ import annotations

from typing import Any

MISSING_NAME = "(missing)"
OTHER_NAME = "(other)"


def show(label: Any) -> str:
    """A label inside a feature name (`Sex=female`, `Sex=(missing)`)."""
    if label is None:
        return MISSING_NAME
    return str(label)


def number_text(value: float) -> str:
    """3.0 → "3", 2.5 → "2.5": the text a reader kept for a number written in a category column."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def plain(value: Any) -> Any:
    """A number class as the target's own value: 1.0 → 1 (it was written 1), 2.5 stays."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
