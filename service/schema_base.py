"""The base of every response shape, apart so that the modules of shapes can share it without
importing each other (schemas.py imports metrics_schemas.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Exact(BaseModel):
    """A response shape: exactly these keys."""

    model_config = ConfigDict(extra="forbid")
