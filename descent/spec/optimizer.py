"""The `optimizer` of a job: one model class per type, and the request's object built from them.

Each type is a class with exactly the keys it uses and their defaults (`Adam` has its own `lr`
default); a key several types share is written once, on the class they inherit it from
(`GradientOptimizer.lr`, `Minibatch.batch_size`). The resolved config holds one of these (`OptimizerConfig`),
so the engine reads typed attributes, and the API shows only the keys the type uses.

A request is more lenient, so that a sweep can vary `type` over one base: its `Optimizer` takes
every key of every type, checks each as the type that has it does, and ignores those `type` does
not use (`resolved()`). That class is generated from the type classes, so a new key is one line on
a type class — which is why the checks of a key live in its annotation (`LearningRate`, `Betas`,
`Field` bounds) rather than in validators of a class: the annotation travels to `Optimizer`.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .base import Int, Strict
from .grid import Grid
from .schedule import Schedule

AUTO = "auto"
"""The `lr` that asks the worker to choose the learning rate (worker/engine/lr_auto.py)."""


def _learning_rate(value: Any) -> Any:
    if value == AUTO:
        return value
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(f'must be a number > 0 or "{AUTO}"')
    return float(value)


LearningRate = Annotated[
    float | Literal["auto"],
    BeforeValidator(_learning_rate),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": AUTO, "type": "string"}]}),
]
"""A number > 0, or "auto": a config shows "auto" until a worker has chosen the rate, then that."""


def _two_fractions(value: list[float]) -> list[float]:
    if len(value) != 2 or not all(0 <= b < 1 for b in value):
        raise ValueError("must be two numbers, each in [0, 1)")
    return value


Betas = Annotated[
    list[float],
    AfterValidator(_two_fractions),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
            "minItems": 2,
            "maxItems": 2,
        }
    ),
]


class OptimizerConfig(Strict):
    """What every optimizer type has: its `type`, and the facts the engine and service ask of it."""

    type: str
    """Each type's class narrows this to its name, a Literal (the discriminator of the union)."""

    @property
    def is_search(self) -> bool:
        """Grid search: no gradient steps, no epochs, no learning rate."""
        return isinstance(self, Exhaustive)

    @property
    def auto_lr(self) -> bool:
        """The learning rate is still to be chosen by the worker."""
        return getattr(self, "lr", None) == AUTO


class Exhaustive(OptimizerConfig):
    """Evaluate the cost at every point of `grid` and keep the best (linear models only)."""

    type: Literal["exhaustive"]
    grid: Grid = Field(description="the points to evaluate")


def _without_discriminator(schema: dict[str, Any]) -> None:
    """The documents state the schedule union as `oneOf` its members, each with its `type` const,
    without the `discriminator` keyword (whose mapping names components: `model` drops it too)."""
    for option in schema.get("anyOf", []):
        option.pop("discriminator", None)


ClipNorm = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A gradient-norm bound: a finite number > 0."""


class GradientOptimizer(OptimizerConfig):
    """What every gradient-descent type has (not a type itself): a learning rate, and the
    regularization and schedule around each step. Their defaults (0, null, null) leave a job's
    numbers exactly what they were before the keys existed."""

    lr: LearningRate = Field(0.01, description='learning rate > 0, or "auto"')
    weight_decay: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="L2 penalty as torch.optim defines it: weight_decay·w is added to each "
        "parameter's gradient (biases included) before the step",
    )
    clip_norm: ClipNorm | None = Field(
        None,
        description="scale each update's gradients down to this total 2-norm when it is larger "
        "(torch.nn.utils.clip_grad_norm_, before weight decay); null: no clipping",
    )
    schedule: Schedule | None = Field(
        None,
        description="how the learning rate changes after each epoch; null: it stays `lr`",
        json_schema_extra=_without_discriminator,
    )


class Gd(GradientOptimizer):
    """Full-batch gradient descent: one update per epoch, on the whole training split."""

    type: Literal["gd"]


class Sgd(GradientOptimizer):
    """Stochastic gradient descent: one update per row, in a fresh random order every epoch."""

    type: Literal["sgd"]


class Minibatch(GradientOptimizer):
    """One update per shuffled batch of `batch_size` rows (the last one of an epoch may be smaller)."""

    type: Literal["minibatch"]
    batch_size: Int = Field(32, ge=1, description="rows per update")


class Momentum(Minibatch):
    """Minibatch with heavy-ball momentum, as torch.optim.SGD defines it."""

    type: Literal["momentum"]
    momentum: float = Field(0.9, ge=0, lt=1, allow_inf_nan=False, description="momentum's β")


class Adam(Minibatch):
    """torch.optim.Adam on shuffled minibatches."""

    type: Literal["adam"]
    lr: LearningRate = Field(0.001, description='learning rate > 0, or "auto"')
    betas: Betas = Field(default_factory=lambda: [0.9, 0.999], description="adam's (β1, β2), each in [0, 1)")


TYPE_CLASSES: tuple[type[OptimizerConfig], ...] = (Gd, Sgd, Minibatch, Momentum, Adam, Exhaustive)
"""Every optimizer type's class (`OptimizerConfig`'s subclasses); the request's `Optimizer` has
their keys in this order."""

CLASS_OF: dict[str, type[OptimizerConfig]] = {
    name: cls for cls in TYPE_CLASSES for name in get_args(cls.model_fields["type"].annotation)
}
SEARCH_TYPES: tuple[str, ...] = tuple(t for t, cls in CLASS_OF.items() if issubclass(cls, Exhaustive))
GRADIENT_TYPES: tuple[str, ...] = tuple(t for t, cls in CLASS_OF.items() if issubclass(cls, GradientOptimizer))
"""Gradient-based types (the engine's optimizers.py has exactly these)."""
OPTIMIZER_TYPES: tuple[str, ...] = (*SEARCH_TYPES, *GRADIENT_TYPES)
"""Every type, in the order the API lists them (the course's: exhaustive search first)."""

AnyOptimizerConfig = Annotated[
    Exhaustive | Gd | Sgd | Minibatch | Momentum | Adam, Field(discriminator="type")
]
"""The optimizer of a resolved config: the class of its type, with only that type's keys."""

MISSING_FOR_TYPE = "missing_for_type"
"""The pydantic error type of a key the chosen type requires (exhaustive's `grid`); ctx `field`."""


def _request_schema(schema: dict[str, Any]) -> None:
    """State which keys a type requires, as JSON Schema can: if `type` is T, then they are present."""
    rules = []
    for name, cls in CLASS_OF.items():
        required = [k for k, info in cls.model_fields.items() if info.is_required() and k != "type"]
        if required:
            rules.append(
                {
                    "if": {"required": ["type"], "properties": {"type": {"const": name}}},
                    "then": {"required": required, "properties": {k: {"type": "object"} for k in required}},
                }
            )
    if rules:
        schema["allOf"] = rules


class _RequestBase(Strict):
    """The behaviour of the generated `Optimizer`; its fields are added by `_request_optimizer`."""

    model_config = ConfigDict(json_schema_extra=_request_schema)

    type: str

    @model_validator(mode="after")
    def _required_for_type(self) -> Any:
        cls = CLASS_OF[self.type]
        for name, info in cls.model_fields.items():
            if info.is_required() and getattr(self, name) is None:
                raise PydanticCustomError(
                    MISSING_FOR_TYPE,
                    "`{field}` is required for the {kind} optimizer",
                    {"field": name, "kind": self.type},
                )
        return self

    def resolved(self) -> OptimizerConfig:
        """The optimizer of the config: this type's keys, defaults filled, the others dropped."""
        cls = CLASS_OF[self.type]
        given = {name: getattr(self, name) for name in cls.model_fields}
        return cls.model_validate({k: v for k, v in given.items() if v is not None})


def _json(value: Any) -> str:
    """A default as the API writes it (null, not None)."""
    return json.dumps(value.model_dump(mode="json") if hasattr(value, "model_dump") else value)


def _defaults(name: str) -> str:
    """Which types use key `name`, and its default: "minibatch, momentum, adam; default 32",
    "gd, sgd, minibatch, momentum, adam; default 0.01, adam 0.001" or "exhaustive; required"."""
    found: dict[str, str] = {}
    for kind, cls in CLASS_OF.items():
        info = cls.model_fields.get(name)
        if info is not None:
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            found[kind] = "required" if info.is_required() else f"default {_json(default)}"
    counts = {text: list(found.values()).count(text) for text in found.values()}
    usual = max(counts, key=counts.__getitem__)
    exceptions = [f"{kind} {text.removeprefix('default ')}" for kind, text in found.items() if text != usual]
    return f"{', '.join(found)}; " + ", ".join([usual, *exceptions])


def _request_optimizer() -> type[_RequestBase]:
    """`Optimizer`: every key of every type class, optional, with the checks of its annotation."""
    fields: dict[str, Any] = {"type": (Literal[OPTIMIZER_TYPES], ...)}  # type: ignore[valid-type]
    shapes: dict[str, Any] = {}
    for cls in TYPE_CLASSES:
        for name, info in cls.model_fields.items():
            if name == "type":
                continue
            shape = (info.annotation, info.metadata)
            if shapes.setdefault(name, shape) != shape:
                raise TypeError(f"optimizer key {name!r} has different types in different optimizer classes")
            if name in fields:
                continue
            annotated = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            fields[name] = (
                annotated | None,
                FieldInfo(
                    default=None,
                    description=f"{info.description} ({_defaults(name)})",
                    json_schema_extra=info.json_schema_extra,
                ),
            )
    return create_model(
        "Optimizer",
        __base__=_RequestBase,
        __module__=__name__,
        __doc__="Keys that do not apply to `type` are accepted (and checked) but ignored, so a sweep "
        "can vary the type. A key a type requires (exhaustive's `grid`) must be there, and not null.",
        **fields,
    )


Optimizer = _request_optimizer()
"""The request's `optimizer`: any key of any type (see the module docstring)."""
