"""A learning curve: a sweep over `data.train_fraction` with an over-sized MLP on a noisy cubic. The
course's picture: with few rows the network fits its training rows (low train cost) and not the
rest (high dev cost); with more, dev cost falls and flattens at the noise while train cost rises
toward it."""

from __future__ import annotations

import itertools
import math

import pytest

from tests.support.api import problem, upload, wait_sweep
from tests.support.data import WORKED, noisy_cubic

pytestmark = pytest.mark.usefixtures("worker")

FRACTIONS = [0.05, 0.1, 0.2, 0.5, 1.0]


def test_dev_cost_falls_and_flattens_while_train_cost_rises_toward_it(client):
    dataset_id = upload(client, noisy_cubic())
    body = {
        "dataset_id": dataset_id,
        "base": {
            "model": {"type": "mlp", "hidden": [64, 64], "activation": "tanh"},
            "optimizer": {"type": "adam", "lr": 0.01, "batch_size": 32},
            "epochs": 300,
            "tolerance": 0,
            "split": {"dev": 0.3},
        },
        "grid": {"data.train_fraction": FRACTIONS},
    }
    r = client.post("/v1/sweeps", json=body)
    assert r.status_code == 202, r.get_json()
    sweep = wait_sweep(client, r.get_json()["id"])
    assert sweep["counts"] == {"succeeded": 5}
    by_fraction = sorted(sweep["jobs"], key=lambda j: j["overrides"]["data.train_fraction"])
    assert [j["train_rows"] for j in by_fraction] == [math.floor(f * 420) for f in FRACTIONS]  # of 600 − 180 dev
    train = [j["train_loss"] for j in by_fraction]
    dev = [j["dev_loss"] for j in by_fraction]
    gaps = [d - t for t, d in zip(train, dev, strict=True)]
    assert dev[0] > 1.3 * dev[-1]  # falls...
    assert all(b <= a + 0.05 for a, b in itertools.pairwise(dev))
    assert abs(dev[-1] - dev[-2]) < 0.25 * (dev[0] - dev[-1])  # ...and flattens
    assert train[0] < 0.6 * train[-1]  # rises...
    assert all(b >= a - 0.05 for a, b in itertools.pairwise(train))
    assert gaps[-1] < gaps[0] / 3  # ...toward the dev cost


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"train_fraction": 0.1}, "0.1 of 3 training rows is no row"),
        ({"train_fraction": 0}, "greater than 0"),
        ({"train_fraction": 1.5}, "less than or equal to 1"),
        ({"rows": 2}, "is not a known field"),
    ],
)
def test_a_training_fraction_that_leaves_no_row_is_a_precise_400(client, data, words):
    dataset_id = upload(client, WORKED)
    body = {"dataset_id": dataset_id, "optimizer": {"type": "gd"}, "data": data}
    errors = problem(client.post("/v1/jobs", json=body), 400)["errors"]
    assert any(e["field"].startswith("data") and words in e["message"].lower() for e in errors), errors
