"""The Python client against the real app over HTTP: a DataFrame in, predictions by name out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from descent.client import TERMINAL, Client
from tests.support.processes import WORKER_DEADLINE, wait_for
from tests.support.real_data import titanic

pytestmark = pytest.mark.usefixtures("worker")


def test_a_dataframe_uploads_with_its_types_trains_and_predicts_by_name(url) -> None:
    client = Client(url)
    frame = titanic(rows=120)
    ds = client.upload(frame.drop(columns=["Survived"]), y=frame["Survived"], name="frame")
    assert ds["target_name"] == "Survived" and ds["rows"] == 120
    kinds = {c["name"]: c["kind"] for c in ds["columns"]}
    assert kinds["Sex"] == "category" and kinds["Age"] == "number" and kinds["Name"] == "text"
    job = client.submit(
        {
            "dataset_id": ds["id"],
            "loss": "bce",
            "features": {"exclude": ["PassengerId"]},
            "optimizer": {"type": "gd", "lr": 0.5},
            "epochs": 100,
        }
    )
    done = wait_for(lambda: (j := client.job(job["id"]))["status"] in TERMINAL and j, WORKER_DEADLINE, what="the job")
    assert done["status"] == "succeeded", done
    rows = frame.drop(columns=["Survived"]).iloc[:5]
    shuffled = rows[list(reversed(rows.columns))]  # the columns in another order: matched by name
    first, second = client.predict(job["id"], rows), client.predict(job["id"], shuffled)
    assert first == second and len(first["y"]) == 5 and set(first["y"]) <= {0, 1}
    text = client.predict(job["id"], rows, as_csv=True)
    assert text.splitlines()[0] == "prediction,probability_0,probability_1" and len(text.splitlines()) == 6


def test_an_array_uploads_as_numbers_with_y_as_the_target(url) -> None:
    client = Client(url)
    x = np.array([[1.0, 0.5], [2.0, 1.5], [3.0, 0.0], [4.0, 2.0]])
    ds = client.upload(x, y=2 * x[:, 0] - x[:, 1])
    assert ds["rows"] == 4 and ds["features"] == 2 and ds["target_name"] == "col2"
    assert client.upload(pd.DataFrame({"a": [1, 2], "b": [3, 4]}))["target_name"] == "b"  # the last column
