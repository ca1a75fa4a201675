"""How an upload asks to be read: its format and, for CSV, the delimiter, decimal mark and nulls.

Read from the query string (and a multipart upload's form fields, which win), each checked with
a 400 naming the parameter: the readers only ever see valid options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from service.problems import invalid

Format = Literal["csv", "parquet", "arrow"]

DELIMITERS = (",", ";", "\t", "|")
"""The delimiters a CSV's first lines are tried with, in order of preference."""
NULL_VALUES = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")
"""Cells read as missing by default (API.md, "Real-world datasets")."""

CONTENT_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/plain": "csv",
    "text/tab-separated-values": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/vnd.apache.arrow.file": "arrow",
    "application/vnd.apache.arrow.stream": "arrow",
}
EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}


@dataclass(frozen=True)
class ReadOptions:
    target: str | None = None
    delimiter: str | None = None
    """None: detected among DELIMITERS."""
    decimal: str = "."
    null_values: tuple[str, ...] = NULL_VALUES


def read_options(*sources: Mapping[str, str]) -> ReadOptions:
    """The options of the first source that has each (form fields before the query string)."""

    def get(name: str) -> str | None:
        for source in sources:
            value = source.get(name)
            if value is not None:
                return value
        return None

    delimiter = get("delimiter")
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1 or delimiter in "\"\r\n":
            raise invalid(
                "delimiter must be one character (not a quote or a line break), e.g. ; or \\t",
                [{"field": "delimiter", "message": "must be one character, not a quote or a line break"}],
            )
    decimal = get("decimal") or "."
    if decimal not in (".", ","):
        raise invalid("decimal must be . or ,", [{"field": "decimal", "message": "must be . or ,"}])
    if delimiter is not None and delimiter == decimal:
        raise invalid(
            "delimiter and decimal are the same character",
            [{"field": "decimal", "message": "must differ from the delimiter"}],
        )
    nulls = get("null_values")
    null_values = NULL_VALUES if nulls is None else tuple(v.strip() for v in nulls.split(","))
    target = get("target")
    return ReadOptions(target or None, delimiter, decimal, null_values)


def format_of(content_type: str | None, filename: str | None = None) -> Format | None:
    """An upload's format from its content type, else from its file name's extension."""
    if content_type and content_type in CONTENT_TYPES:
        return CONTENT_TYPES[content_type]
    if filename:
        return EXTENSIONS.get(PurePath(filename).suffix.lower())
    return None
