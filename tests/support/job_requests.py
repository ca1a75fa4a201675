"""Valid job requests as hypothesis strategies, for the validation property tests
(test_validation_defaults.py, test_validation_rejections.py), which both draw them.

The requests fit a dataset of ROWS rows, FEATURES features and a 0/1 target (tests/api/conftest.py's
`dataset_id`): every loss, split and grid drawn here fits it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from descent.settings import Settings
from service.schemas import MAX_SEED, OPTIMIZER_TYPES

ROWS, FEATURES = 100, 3
"""The shape of the dataset the requests are drawn for."""
LIMITS = Settings()
"""The default limits (epochs, runtime, history points) the app under test has."""
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
"""How the property tests run: 150 examples, the same ones every run."""

finite = st.floats(allow_nan=False, allow_infinity=False)
non_negative = st.floats(min_value=0, allow_infinity=False)
positive = st.floats(min_value=0, exclude_min=True, allow_infinity=False)
fraction = st.floats(min_value=0, max_value=1, exclude_max=True)
"""Valid numbers by the bounds the fields have (fraction: [0, 1), as `momentum` and `betas`)."""


def integral(ints: st.SearchStrategy[int]) -> st.SearchStrategy[int | float]:
    """An integer, sometimes written 10.0: JSON has one number type."""
    return ints.flatmap(lambda n: st.sampled_from([n, float(n)]) if abs(n) < 2**53 else st.just(n))


def maybe(draw, target: dict[str, Any], key: str, values: st.SearchStrategy) -> None:
    """Set `target[key]` to a value drawn from `values`, or leave it out (its default applies)."""
    if draw(st.booleans()):
        target[key] = draw(values)


@st.composite
def ranges(draw) -> dict[str, Any]:
    """A valid range of an exhaustive search's grid: min <= max, 1 to 8 steps."""
    a, b = draw(finite), draw(finite)
    return {"min": min(a, b), "max": max(a, b), "steps": draw(integral(st.integers(1, 8)))}


@st.composite
def grids(draw, bias_range: bool) -> dict[str, Any]:
    """A valid `optimizer.grid`: one range for every weight, a list of one, or one per feature; a
    range for the bias only with `bias_range`."""
    w = draw(
        st.one_of(
            ranges(),
            st.lists(ranges(), min_size=1, max_size=1),
            st.lists(ranges(), min_size=FEATURES, max_size=FEATURES),
        )
    )
    grid: dict[str, Any] = {"w": w}
    if bias_range:
        grid["b"] = draw(ranges())
    elif draw(st.booleans()):
        grid["b"] = None
    return grid


@st.composite
def schedules(draw, plateau: bool) -> dict[str, Any]:
    """A valid `optimizer.schedule`; plateau only when the job has a dev split."""
    kind = draw(st.sampled_from(["step", "exponential", "cosine"] + (["plateau"] if plateau else [])))
    decay = st.floats(min_value=0, max_value=1, exclude_min=True)
    schedule: dict[str, Any] = {"type": kind}
    if kind == "step":
        schedule["step_size"] = draw(integral(st.integers(1, 1000)))
        maybe(draw, schedule, "gamma", decay)
    elif kind == "exponential":
        schedule["gamma"] = draw(decay)
    elif kind == "cosine":
        maybe(draw, schedule, "t_max", st.one_of(st.none(), integral(st.integers(1, 10**6))))
    else:
        factors = st.floats(min_value=0, max_value=1, exclude_min=True, exclude_max=True)
        maybe(draw, schedule, "factor", factors)
        maybe(draw, schedule, "patience", integral(st.integers(0, 1000)))
    return schedule


split_fraction = st.one_of(st.just(0), st.just(0.0), st.floats(min_value=0.01, max_value=0.45))
"""A valid `split.dev` or `split.test` for the dataset: none, or enough to hold out rows."""


@st.composite
def job_requests(draw) -> dict[str, Any]:
    """A request every field of which is valid, for the ROWS x FEATURES dataset (dataset_id is added
    later)."""
    kind = draw(st.sampled_from(OPTIMIZER_TYPES))
    exhaustive = kind == "exhaustive"
    req: dict[str, Any] = {}
    if exhaustive or draw(st.booleans()):
        model: dict[str, Any] = {}
        maybe(draw, model, "type", st.just("linear"))
        maybe(draw, model, "bias", st.booleans())
    else:
        model = {"type": "mlp"}
        maybe(draw, model, "hidden", st.lists(integral(st.integers(1, 32)), min_size=1, max_size=3))
        maybe(draw, model, "activation", st.sampled_from(["relu", "sigmoid", "tanh", "identity"]))
    if model != {} or draw(st.booleans()):
        req["model"] = model
    maybe(
        draw,
        req,
        "loss",
        st.sampled_from(["mse", "mae", "huber", "bce"] + ([] if exhaustive else ["cross_entropy"])),
    )
    optimizer: dict[str, Any] = {"type": kind}
    maybe(draw, optimizer, "lr", st.one_of(st.none(), st.just("auto"), positive))
    maybe(draw, optimizer, "batch_size", st.one_of(st.none(), integral(st.integers(1, 10**6))))
    maybe(draw, optimizer, "momentum", st.one_of(st.none(), fraction))
    maybe(draw, optimizer, "betas", st.one_of(st.none(), st.lists(fraction, min_size=2, max_size=2)))
    if exhaustive or draw(st.booleans()):
        bias = model.get("type", "linear") == "linear" and model.get("bias", True)
        optimizer["grid"] = draw(grids(bias_range=bool(bias) and draw(st.booleans())))
    req["optimizer"] = optimizer
    maybe(draw, req, "epochs", integral(st.integers(1, LIMITS.max_epochs)))
    maybe(draw, req, "tolerance", non_negative)
    split: dict[str, Any] = {}
    maybe(draw, split, "dev", split_fraction)
    maybe(draw, split, "test", split_fraction)
    if split or draw(st.booleans()):
        req["split"] = split
    if exhaustive:  # the search takes no step options but their defaults
        maybe(draw, optimizer, "weight_decay", st.sampled_from([None, 0, 0.0]))
        maybe(draw, optimizer, "clip_norm", st.none())
        maybe(draw, optimizer, "schedule", st.none())
    else:
        maybe(draw, optimizer, "weight_decay", st.one_of(st.none(), non_negative))
        maybe(draw, optimizer, "clip_norm", st.one_of(st.none(), positive))
        maybe(draw, optimizer, "schedule", st.one_of(st.none(), schedules(plateau=split.get("dev", 0) > 0)))
    if draw(st.booleans()):
        stopping: dict[str, Any] = {}
        maybe(draw, stopping, "patience", integral(st.integers(1, 1000)))
        maybe(draw, stopping, "min_delta", non_negative)
        req["early_stopping"] = draw(st.sampled_from([None, stopping]))
    maybe(draw, req, "smoothing", st.floats(min_value=0, max_value=1, exclude_min=True))
    maybe(draw, req, "standardize", st.booleans())
    maybe(draw, req, "seed", integral(st.integers(0, MAX_SEED)))
    maybe(
        draw,
        req,
        "max_runtime_seconds",
        st.floats(min_value=0, max_value=LIMITS.max_runtime_seconds, exclude_min=True),
    )
    return req
