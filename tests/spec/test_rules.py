"""The rules across fields, and those that need the dataset or the service's limits: each once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from descent.settings import Settings
from descent.spec import ColumnFacts, DatasetFacts, JobRequest, job_errors, mlp_parameters

LIMITS = Settings()
REGRESSION = DatasetFacts(
    rows=10, features=2, target_name="price", y_min=0.5, y_max=9.5, target_integer=False
)
BINARY = replace(REGRESSION, target_name="label", y_min=0.0, y_max=1.0, target_integer=True)
CLASSES = replace(BINARY, y_max=3.0)
RANGE = {"min": 0, "max": 1, "steps": 3}


def request(**fields: Any) -> JobRequest:
    return JobRequest.model_validate({"dataset_id": "d", "optimizer": {"type": "gd"}, **fields})


def exhaustive(**grid: Any) -> dict[str, Any]:
    return {"type": "exhaustive", "grid": {"w": RANGE, **grid}}


def faults(
    job: JobRequest, dataset: DatasetFacts = REGRESSION, settings: Settings = LIMITS
) -> dict[str, str]:
    return {e["field"]: e["message"] for e in job_errors(job, dataset, settings)}


def test_a_job_within_every_rule_has_no_fault() -> None:
    assert faults(request()) == {}
    assert faults(request(optimizer=exhaustive(b=RANGE), loss="bce"), BINARY) == {}
    assert (
        faults(request(model={"type": "mlp"}, loss="cross_entropy", split={"dev": 0.1, "test": 0.1}), CLASSES)
        == {}
    )


def test_exhaustive_search_needs_a_linear_model() -> None:
    job = request(model={"type": "mlp"}, optimizer=exhaustive())
    assert faults(job) == {"optimizer.type": "exhaustive search needs model linear"}


@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "bce"])
def test_exhaustive_search_takes_the_losses_of_a_one_output_model(loss: str) -> None:
    assert "loss" not in faults(request(optimizer=exhaustive(), loss=loss), BINARY)


def test_exhaustive_search_refuses_cross_entropy_and_says_why() -> None:
    message = faults(request(optimizer=exhaustive(), loss="cross_entropy"), CLASSES)["loss"]
    assert message.startswith("exhaustive search supports loss mse, mae, huber, bce, not cross_entropy")
    assert "one output per class" in message


@pytest.mark.parametrize(
    "key, value",
    [("weight_decay", 0.01), ("clip_norm", 1.0), ("schedule", {"type": "exponential", "gamma": 0.9})],
)
def test_exhaustive_search_takes_no_step_options(key: str, value: Any) -> None:
    """It makes no gradient steps: an option about them is a mistake (a 400), not a key to ignore."""
    job = request(optimizer={**exhaustive(), key: value})
    assert faults(job) == {
        f"optimizer.{key}": f"exhaustive search makes no gradient steps: it takes no {key}"
    }
    assert faults(request(optimizer={**exhaustive(), "weight_decay": 0, "clip_norm": None})) == {}


def test_a_plateau_schedule_needs_a_dev_split() -> None:
    plateau = {"type": "gd", "schedule": {"type": "plateau"}}
    assert faults(request(optimizer=plateau)) == {
        "optimizer.schedule": "plateau steps on the dev loss: hold out a dev split (split.dev > 0)"
    }
    assert faults(request(optimizer=plateau, split={"test": 0.2})) == faults(request(optimizer=plateau))
    assert faults(request(optimizer=plateau, split={"dev": 0.2})) == {}
    assert faults(request(optimizer=plateau, split={"folds": 5, "fold": 0})) == {}  # a fold is the dev split
    other = {"type": "gd", "schedule": {"type": "step", "step_size": 5}}
    assert faults(request(optimizer=other)) == {}


def test_a_bias_range_needs_a_model_with_a_bias() -> None:
    job = request(model={"bias": False}, optimizer=exhaustive(b=RANGE))
    assert faults(job) == {"optimizer.grid.b": "the model has no bias (model.bias is false)"}


@pytest.mark.parametrize("ranges, ok", [(1, True), (2, True), (3, False)])
def test_a_grid_has_one_range_or_one_per_feature(ranges: int, ok: bool) -> None:
    found = faults(request(optimizer=exhaustive(w=[RANGE] * ranges)))
    assert ("optimizer.grid.w" not in found) is ok
    if not ok:
        assert found["optimizer.grid.w"] == "give one range, or one per feature (2); got 3"


def test_grid_points_are_limited_by_descent_max_grid_points() -> None:
    """One range counts once per feature: 3 × 3 weights × 4 biases = 36 points."""
    job = request(optimizer=exhaustive(b={"min": 0, "max": 1, "steps": 4}))
    assert faults(job, settings=replace(LIMITS, max_grid_points=36)) == {}
    message = faults(job, settings=replace(LIMITS, max_grid_points=35))["optimizer.grid"]
    assert message == "36 grid points exceed DESCENT_MAX_GRID_POINTS = 35"


@pytest.mark.parametrize(
    "dataset, message",
    [
        (
            REGRESSION,
            "bce needs targets 0 or 1; the target 'price' has values from 0.5 to 9.5, not all integers",
        ),
        (CLASSES, "bce needs targets 0 or 1; the target 'label' has values from 0 to 3"),
        (BINARY, None),
    ],
)
def test_bce_needs_targets_0_and_1(dataset: DatasetFacts, message: str | None) -> None:
    assert faults(request(loss="bce"), dataset).get("loss") == message


@pytest.mark.parametrize(
    "dataset, message",
    [
        (
            REGRESSION,
            "cross_entropy needs integer classes 0..K-1; the target 'price' has values from 0.5 to 9.5",
        ),
        (
            replace(CLASSES, y_min=-1.0),
            "cross_entropy needs integer classes 0..K-1; the target 'label' has values from -1 to 3",
        ),
        (CLASSES, None),
    ],
)
def test_cross_entropy_needs_classes_0_to_k_minus_1(dataset: DatasetFacts, message: str | None) -> None:
    assert faults(request(loss="cross_entropy"), dataset).get("loss") == message


def test_classes_are_limited_by_descent_max_classes() -> None:
    job = request(loss="cross_entropy")
    assert faults(job, CLASSES, replace(LIMITS, max_classes=4)) == {}
    assert faults(job, CLASSES, replace(LIMITS, max_classes=3)) == {
        "loss": "4 classes exceed DESCENT_MAX_CLASSES = 3"
    }


def test_mlp_parameters_are_counted_with_an_output_per_class() -> None:
    assert mlp_parameters(2, [16], 1) == (2 * 16 + 16) + (16 * 1 + 1)
    regression = request(model={"type": "mlp", "hidden": [16]})
    assert faults(regression, settings=replace(LIMITS, max_mlp_parameters=65)) == {}
    classifier = request(model={"type": "mlp", "hidden": [16]}, loss="cross_entropy")
    message = faults(classifier, CLASSES, replace(LIMITS, max_mlp_parameters=65))["model.hidden"]
    assert message == "116 parameters exceed DESCENT_MAX_MLP_PARAMETERS = 65"


def test_epochs_and_run_time_are_limited() -> None:
    small = replace(LIMITS, max_epochs=50, max_runtime_seconds=60)
    assert faults(request(epochs=50, max_runtime_seconds=60), settings=small) == {}
    assert faults(request(epochs=51, max_runtime_seconds=60.5), settings=small) == {
        "epochs": "must be <= DESCENT_MAX_EPOCHS = 50",
        "max_runtime_seconds": "must be <= DESCENT_MAX_RUNTIME_SECONDS = 60",
    }


def test_a_split_fraction_holds_out_a_row_and_training_keeps_one() -> None:
    assert faults(request(split={"dev": 0.1, "test": 0.1})) == {}  # one row each of 10
    assert faults(request(split={"dev": 0.05})) == {
        "split.dev": "0.05 of 10 rows holds out no row; use a larger fraction"
    }
    two_rows = replace(REGRESSION, rows=2)
    assert faults(request(split={"dev": 0.5, "test": 0.49}), two_rows)["split.test"].startswith(
        "0.49 of 2 rows"
    )
    # dev + test < 1, yet in floating point 0.8999999999999999 · 10 rounds to 9: 1 + 9 of 10 rows
    job = request(split={"dev": 0.1, "test": 0.8999999999999999})
    assert faults(job) == {"split": "leaves no training rows out of 10"}


def test_every_fault_is_reported_at_once() -> None:
    job = request(
        model={"type": "mlp", "hidden": [4]},
        optimizer=exhaustive(w=[RANGE] * 3),
        epochs=10**9,
    )
    assert set(faults(job)) == {"optimizer.type", "optimizer.grid.w", "epochs"}


def test_dataset_facts_are_read_from_the_dataset_resource() -> None:
    resource = {
        "rows": 10,
        "features": 2,
        "target_name": "label",
        "stats": {"y_min": 0.0, "y_max": 1.0, "x_mean": [0, 0], "x_std": [1, 1], "y_mean": 0.5, "y_std": 0.5},
        "target_integer": True,
    }
    assert DatasetFacts.of(resource) == BINARY
    assert not DatasetFacts.of({k: v for k, v in resource.items() if k != "target_integer"}).target_integer


TITANIC = DatasetFacts(
    rows=100,
    features=4,
    target_name="Survived",
    columns=(
        ColumnFacts("Name", "text", 100),
        ColumnFacts("Age", "number", 60, missing=20),
        ColumnFacts("Sex", "category", 2, values=("female", "male")),
        ColumnFacts("Pclass", "category", 3, values=("1st", "2nd", "3rd")),
        ColumnFacts("Boarded", "datetime", 40),
        ColumnFacts("Survived", "category", 2, values=("no", "yes")),
    ),
)


def test_a_typed_target_takes_the_loss_its_values_allow() -> None:
    assert faults(request(loss="bce"), TITANIC) == {}
    assert faults(request(loss="bce", positive="no"), TITANIC) == {}
    assert faults(request(loss="cross_entropy"), TITANIC) == {}
    assert faults(request(), TITANIC) == {
        "loss": "mse needs a number target; 'Survived' is a category (use bce or cross_entropy)"
    }
    assert faults(request(loss="bce", positive="maybe"), TITANIC) == {
        "positive": "'maybe' is not a value of the target ('no', 'yes')"
    }
    three = replace(TITANIC, target_name="Pclass")
    assert faults(request(loss="bce"), three) == {
        "loss": "bce needs a target with two distinct values; 'Pclass' has 3 (use cross_entropy)"
    }
    named = replace(TITANIC, target_name="Name")
    assert faults(request(loss="cross_entropy"), named) == {
        "dataset_id": "the target 'Name' is text: it cannot be learned"
    }


def test_a_number_target_with_two_values_names_its_positive_class_as_written() -> None:
    binary = DatasetFacts(
        rows=10, features=1, target_name="y", columns=(ColumnFacts("y", "number", 2, values=(1.0, 2.0)),)
    )
    assert faults(request(loss="bce", positive=2), binary) == {}
    assert faults(request(loss="bce", positive="2"), binary) == {}
    assert "positive" in faults(request(loss="bce", positive=3), binary)


def test_features_name_columns_of_the_dataset_that_can_be_features() -> None:
    assert (
        faults(request(loss="bce", features={"include": ["Age", "Sex"], "exclude": ["Boarded"]}), TITANIC)
        == {}
    )
    assert faults(
        request(loss="bce", features={"include": ["Age", "Nope"], "exclude": ["Gone"]}), TITANIC
    ) == {
        "features.include": "no column named 'Nope'",
        "features.exclude": "no column named 'Gone'",
    }
    assert faults(request(loss="bce", features={"include": ["Name"]}), TITANIC) == {
        "features.include": "'Name' is a text column (names, ids): it cannot be a feature"
    }


def test_an_mlp_is_sized_by_its_encoded_features() -> None:
    """At most: Age and its indicator 2, Sex 2 + other, Pclass 2 kept + other, Boarded 5 parts: 13."""
    job = request(
        loss="bce",
        model={"type": "mlp", "hidden": [1]},
        features={"missing_indicator": True, "max_categories": 2},
    )
    assert faults(job, TITANIC, replace(LIMITS, max_mlp_parameters=mlp_parameters(13, [1], 1))) == {}
    assert "model.hidden" in faults(
        job, TITANIC, replace(LIMITS, max_mlp_parameters=mlp_parameters(12, [1], 1))
    )
