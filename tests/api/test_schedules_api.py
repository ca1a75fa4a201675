"""Weight decay, clipping and schedules through the real app: precise 400s for bad values (naming
each field as the request wrote it), the resolved config, and a job trained by a real worker whose
history carries each point's learning rate. The numbers themselves: tests/engine/test_schedules.py."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.support.api import full_history, problem, submit, upload, wait_job

CSV = "x,y\n" + "".join(f"{i},{2 * i + 1 + (i % 3) / 10}\n" for i in range(40))


@pytest.fixture()
def dataset(client) -> str:
    return upload(client, CSV)


def errors(client, **body: Any) -> dict[str, str]:
    """The 400's errors of POST /v1/jobs, by field."""
    found = problem(client.post("/v1/jobs", json=body), 400)
    return {e["field"]: e["message"] for e in found["errors"]}


@pytest.mark.parametrize(
    "optimizer, field, message",
    [
        ({"weight_decay": -0.1}, "optimizer.weight_decay", "greater than or equal to 0"),
        ({"weight_decay": "0.1"}, "optimizer.weight_decay", "valid number"),
        ({"clip_norm": 0}, "optimizer.clip_norm", "greater than 0"),
        ({"clip_norm": -2.5}, "optimizer.clip_norm", "greater than 0"),
        (
            {"schedule": {"type": "linear"}},
            "optimizer.schedule.type",
            "'step', 'exponential', 'cosine', 'plateau'",
        ),
        ({"schedule": {"step_size": 3}}, "optimizer.schedule", "type"),
        ({"schedule": "cosine"}, "optimizer.schedule", "dictionary or object"),
        ({"schedule": {"type": "step"}}, "optimizer.schedule.step_size", "is required"),
        (
            {"schedule": {"type": "step", "step_size": 0}},
            "optimizer.schedule.step_size",
            "greater than or equal to 1",
        ),
        (
            {"schedule": {"type": "step", "step_size": 5, "gamma": 2}},
            "optimizer.schedule.gamma",
            "less than or equal to 1",
        ),
        ({"schedule": {"type": "exponential"}}, "optimizer.schedule.gamma", "is required"),
        ({"schedule": {"type": "cosine", "t_max": 2.5}}, "optimizer.schedule.t_max", "valid integer"),
        (
            {"schedule": {"type": "exponential", "gamma": 0.9, "warmup": 5}},
            "optimizer.schedule.warmup",
            "not a known field",
        ),
    ],
)
def test_a_bad_value_is_a_400_naming_its_field(client, dataset, optimizer, field, message) -> None:
    found = errors(client, dataset_id=dataset, optimizer={"type": "sgd", **optimizer})
    assert list(found) == [field]
    assert message in found[field]


def test_a_plateau_without_a_dev_split_is_a_400(client, dataset) -> None:
    plateau = {"type": "minibatch", "schedule": {"type": "plateau", "patience": 2}}
    assert errors(client, dataset_id=dataset, optimizer=plateau) == {
        "optimizer.schedule": "plateau steps on the dev loss: hold out a dev split (split.dev > 0)"
    }
    assert (
        client.post(
            "/v1/jobs", json={"dataset_id": dataset, "optimizer": plateau, "split": {"dev": 0.25}}
        ).status_code
        == 202
    )


def test_exhaustive_search_takes_none_of_them(client, dataset) -> None:
    grid = {"w": {"min": 0, "max": 4, "steps": 5}}
    search = {
        "type": "exhaustive",
        "grid": grid,
        "weight_decay": 0.1,
        "clip_norm": 1.0,
        "schedule": {"type": "cosine", "t_max": 10},
    }
    assert errors(client, dataset_id=dataset, optimizer=search) == {
        f"optimizer.{key}": f"exhaustive search makes no gradient steps: it takes no {key}"
        for key in ("weight_decay", "clip_norm", "schedule")
    }
    defaults = {"type": "exhaustive", "grid": grid, "weight_decay": 0, "clip_norm": None, "schedule": None}
    assert client.post("/v1/jobs", json={"dataset_id": dataset, "optimizer": defaults}).status_code == 202


def test_every_bad_field_is_named_at_once_and_in_a_sweeps_base(client, dataset) -> None:
    optimizer = {
        "type": "adam",
        "weight_decay": -1,
        "clip_norm": 0,
        "schedule": {"type": "step", "step_size": 2, "gamma": 0},
    }
    assert set(errors(client, dataset_id=dataset, optimizer=optimizer)) == {
        "optimizer.weight_decay",
        "optimizer.clip_norm",
        "optimizer.schedule.gamma",
    }
    sweep = {"dataset_id": dataset, "base": {"optimizer": optimizer}, "grid": {"optimizer.lr": [0.1, 0.01]}}
    found = problem(client.post("/v1/sweeps", json=sweep), 400)
    assert {e["field"] for e in found["errors"]} == {
        "base.optimizer.weight_decay",
        "base.optimizer.clip_norm",
        "base.optimizer.schedule.gamma",
    }


@pytest.mark.usefixtures("worker")
def test_a_scheduled_job_reports_each_points_rate(client, dataset) -> None:
    """gd on 40 rows: one update, one point per epoch; a step schedule halves the rate every 4th
    epoch, and every point of the history says which rate its update used."""
    job = submit(
        client,
        dataset_id=dataset,
        optimizer={
            "type": "gd",
            "lr": 0.2,
            "weight_decay": 0.001,
            "clip_norm": 100.0,
            "schedule": {"type": "step", "step_size": 4, "gamma": 0.5},
        },
        epochs=12,
        tolerance=0,
    )
    assert job["config"]["optimizer"] == {
        "type": "gd",
        "lr": 0.2,
        "weight_decay": 0.001,
        "clip_norm": 100.0,
        "schedule": {"type": "step", "step_size": 4, "gamma": 0.5},
    }
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded", done
    train = full_history(client, job["id"])["train"]
    assert train["epoch"] == list(range(12))
    assert train["lr"] == [0.2 * 0.5 ** (epoch // 4) for epoch in range(12)]
    page = client.get(f"/v1/jobs/{job['id']}/history?after=5&limit=2").get_json()
    assert page["train"]["lr"] == [0.1, 0.1]  # steps 6 and 7: epochs 5 and 6


@pytest.mark.usefixtures("worker")
def test_a_cosine_schedule_is_shown_over_the_jobs_epochs(client, dataset) -> None:
    job = submit(
        client, dataset_id=dataset, optimizer={"type": "sgd", "schedule": {"type": "cosine"}}, epochs=3
    )
    assert job["config"]["optimizer"]["schedule"] == {"type": "cosine", "t_max": 3}
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded", done
    lrs = full_history(client, job["id"])["train"]["lr"]
    assert lrs[0] == 0.01 and lrs[-1] == pytest.approx(0.01 * (1 + math.cos(2 * math.pi / 3)) / 2)
