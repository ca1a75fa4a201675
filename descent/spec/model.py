"""The `model` of a job: the linear model or a multi-layer perceptron."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from .base import Int, Strict
from .names import DEFAULT_ACTIVATION, Activation

MAX_HIDDEN_LAYERS = 8
MAX_LAYER_WIDTH = 4096


class LinearModel(Strict):
    """ŷ = w·x + b; `bias: false` gives ŷ = w·x. A model without `type` is linear."""

    type: Literal["linear"] = "linear"
    bias: bool = True


class MlpModel(Strict):
    """A multi-layer perceptron: linear layers with `activation` between them (each with a bias)."""

    type: Literal["mlp"]
    hidden: list[Int] = Field(
        default_factory=lambda: [16],
        min_length=1,
        max_length=MAX_HIDDEN_LAYERS,
        description="widths of the hidden layers",
        json_schema_extra={"items": {"type": "integer", "minimum": 1, "maximum": MAX_LAYER_WIDTH}},
    )
    activation: Activation = DEFAULT_ACTIVATION

    @field_validator("hidden")
    @classmethod
    def _widths(cls, value: list[int]) -> list[int]:
        for width in value:
            if not 1 <= width <= MAX_LAYER_WIDTH:
                raise ValueError(f"every width must be between 1 and {MAX_LAYER_WIDTH}")
        return value


Model = Annotated[LinearModel | MlpModel, Field(discriminator="type")]
"""Either model, told apart by `type` (JobRequest fills in "linear" when a request leaves it out)."""


def linear_by_default(value: Any) -> Any:
    """A request's model without `type` is linear (a before-validator of the `model` field)."""
    if isinstance(value, dict) and "type" not in value:
        return {**value, "type": "linear"}
    return value
