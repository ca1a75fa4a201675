"""A CSV upload's first row and target: is it a header, are its names usable, which column is the
target. Shared by the general path and the compiled one.
"""

from __future__ import annotations

from collections.abc import Sequence

from .common import _INDEX, _SHOWN_NAMES, _Errors


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_header(cells: Sequence[str]) -> bool:
    return any(c.strip() and not _is_number(c) for c in cells)


def _check_header(names: list[str], errors: _Errors) -> None:
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if not name:
            errors.add(
                {
                    "field": "csv",
                    "row": 1,
                    "column": name,
                    "column_number": j + 1,
                    "message": f"line 1, column {j + 1}: empty column name; every column of the "
                    "header needs a name (an unnamed first column is often an index written by "
                    "pandas' to_csv: write it with index=False)",
                }
            )
        elif name in seen:
            errors.add(
                {
                    "field": "csv",
                    "row": 1,
                    "column": name,
                    "column_number": j + 1,
                    "message": f"line 1, column {j + 1} ({name!r}): duplicate column name; column "
                    f"{seen[name] + 1} has the same name",
                }
            )
        else:
            seen[name] = j


def _list_names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN_NAMES])
    if len(names) > _SHOWN_NAMES:
        shown += f", … ({len(names)} columns in all)"
    return shown


def _resolve_csv_target(target: str | None, names: list[str], errors: _Errors) -> int | None:
    """The index of the target column (see `parse_csv`), or None after adding an error."""
    ncols = len(names)
    if target is None or not target.strip():
        return ncols - 1
    wanted = target.strip()
    if wanted in names:
        return names.index(wanted)
    if _INDEX.fullmatch(wanted):
        index = int(wanted)
        if -ncols <= index < ncols:
            return index % ncols
        errors.add(
            {
                "field": "target",
                "message": f"column index {index} is out of range: there are {ncols} columns "
                f"(0 to {ncols - 1}, or -{ncols} to -1 from the end)",
            }
        )
        return None
    errors.add(
        {
            "field": "target",
            "message": f"no column named {wanted!r}; columns are: {_list_names(names)}",
        }
    )
    return None
