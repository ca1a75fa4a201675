"""What every part of the job spec shares: the strict base model, integer fields, schema helpers.

Strict and closed: no "5" for 5, no true for 1, and an unknown key is an error that names it
instead of a silently ignored setting. `json_schema_serialization_defaults_required` makes the
serialization-mode JSON schema of a spec model list every key as present: that schema is the
resolved config's (every default filled in), and `documented_shape` turns it into the schema the
API documents for a job's `config`. So one model gives both documents: the request (validation
mode: keys with a default may be left out) and the resolved config (every key present).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class Strict(BaseModel):
    """A part of the job spec (or of a request next to it): strict types, no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_serialization_defaults_required=True)


def _integral(value: Any) -> Any:
    """JSON has one number type: 10.0 is the integer 10 (as JSON Schema's "integer" says)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_integral)]
"""An integer field: a JSON number without a fractional part (not a string, not a boolean)."""


def bounded_int(**bounds: int) -> Any:
    """`Int` with bounds (`ge=1`) inside the type, for a union (`bounded_int(ge=1) | None`): the
    bounds come before the conversion, so the JSON schema states them as `minimum` and so on."""
    return Annotated[int, Field(**bounds), BeforeValidator(_integral)]


def drop_keys(*keys: str):
    """A json_schema_extra that removes keywords pydantic writes but the document should not have."""

    def edit(schema: dict[str, Any]) -> None:
        for key in keys:
            schema.pop(key, None)

    return edit


class RequestSchema:
    """Annotated metadata: `edit(schema)` changes the field's request (validation-mode) schema only.

    For a field that accepts more than it stores (a lone grid range for a list of ranges): the
    request schema says what is accepted, the resolved config's what is kept.
    """

    def __init__(self, edit: Any) -> None:
        self.edit = edit

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if handler.mode == "validation":
            self.edit(schema)
        return schema


def documented_shape(kind: Any) -> dict[str, Any]:
    """The JSON schema of a resolved value of `kind` (a spec model or a union of them), as the API
    shows it: every key present (no defaults to fall back on), self-contained (no $ref, so it can
    sit inside any document), without the `discriminator` keyword (its mapping would need $refs).
    """
    schema = TypeAdapter(kind).json_schema(mode="serialization")
    defs = schema.pop("$defs", {})
    return _inline(schema, defs)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _inline(sub, defs) for name, sub in value.items()}
        elif key not in ("discriminator", "default", "title"):
            out[key] = _inline(value, defs)
    return out
