"""The exhaustive search's grid: evenly spaced values for each weight, and maybe for the bias."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from .base import Int, RequestSchema, Strict


class Range(Strict):
    """Evenly spaced grid values from `min` to `max` inclusive (`max` >= `min`)."""

    min: float = Field(allow_inf_nan=False)
    max: float = Field(allow_inf_nan=False)
    steps: Int = Field(ge=1, description="number of grid values; 1 gives just `min`")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max < self.min:
            raise ValueError("max must be >= min")
        return self

    def points(self) -> list[float]:
        """min + i·(max − min)/(steps − 1), i = 0..steps−1, computed as the formula reads, so
        w = 2 is exactly 2.0 on [0, 4]."""
        if self.steps == 1:
            return [self.min]
        span = self.max - self.min
        return [self.min + i * span / (self.steps - 1) for i in range(self.steps)]


def _one_or_many(schema: dict[str, Any]) -> None:
    """A request's `w` is one range (for every feature) or a list of ranges."""
    many = dict(schema)
    schema.clear()
    schema["anyOf"] = [many["items"], many]


class Grid(Strict):
    """The exhaustive search grid, in the dataset's original units. The search takes a linear model
    and loss `mse`, `mae`, `huber` or `bce` (not `cross_entropy`: one output per class)."""

    w: Annotated[list[Range], RequestSchema(_one_or_many)] = Field(
        description="one range for every feature, or a list with one range per feature", min_length=1
    )
    b: Range | None = Field(None, description="bias range; without it the bias is fixed at 0")

    @field_validator("w", mode="before")
    @classmethod
    def _one_range(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value
