"""Predictions with rows by column name, every row of a dataset, labels back, and CSV out."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from descent.predict import predict
from tests.support.api import problem, submit, upload, wait_job

CSV = "size,rooms,price\n1,3,12\n2,1,9\n3,4,23\n4,2,20\n5,5,33\n"


@pytest.fixture()
def regression(client, worker):
    ds = upload(client, CSV, "target=price")
    job = submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.1}, epochs=300)
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded", done
    return ds, done


def test_rows_by_name_in_any_order_equal_x_in_feature_order(client, regression) -> None:
    _, job = regression
    params = job["result"]["params"]
    assert params["feature_names"] == ["size", "rooms"]
    expected = predict(params, job["config"]["model"], "mse", np.array([[2.5, 3.0], [7.0, 1.0]]))["y"]
    by_x = client.post(f"/v1/jobs/{job['id']}/predict", json={"x": [[2.5, 3], [7, 1]]}).get_json()
    by_records = client.post(
        f"/v1/jobs/{job['id']}/predict",
        json={"rows": [{"rooms": 3, "size": 2.5, "price": 0, "id": "a"}, {"size": 7, "rooms": 1}]},
    ).get_json()
    by_lists = client.post(
        f"/v1/jobs/{job['id']}/predict", json={"columns": ["rooms", "size"], "rows": [[3, 2.5], [1, 7]]}
    ).get_json()
    assert by_x["y"] == by_records["y"] == by_lists["y"] == expected


def test_every_row_of_a_dataset_and_csv_out(client, regression) -> None:
    ds, job = regression
    r = client.post(f"/v1/jobs/{job['id']}/predict", json={"dataset_id": ds}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    x = np.array([[1, 3], [2, 1], [3, 4], [4, 2], [5, 5]], dtype=np.float64)
    expected = predict(job["result"]["params"], job["config"]["model"], "mse", x)["y"]
    assert rows[0] == ["prediction"] and [float(r[0]) for r in rows[1:]] == pytest.approx(expected, rel=1e-12)


def test_a_missing_column_or_an_unreadable_value_is_a_400_naming_it(client, regression) -> None:
    _, job = regression
    path = f"/v1/jobs/{job['id']}/predict"
    missing = problem(client.post(path, json={"columns": ["size"], "rows": [[1]]}), 400)
    assert missing["errors"][0]["field"] == "columns" and "'rooms'" in missing["errors"][0]["message"]
    bad = problem(client.post(path, json={"rows": [{"size": 1, "rooms": "many"}]}), 400)
    assert bad["errors"][0]["field"] == "rows[0].rooms"
    both = problem(client.post(path, json={"x": [[1, 2]], "rows": [{"size": 1}]}), 400)
    assert both["errors"][0]["field"] == "rows"
    other = problem(client.post(path, json={"dataset_id": "ds_nope"}), 404)
    assert "ds_nope" in other["detail"]


def test_a_classifier_answers_with_the_targets_values_and_its_classes(client, worker) -> None:
    rows = "\n".join(f"{x},{int(x > 5)}" for x in range(11))
    ds = upload(client, "x,label\n" + rows + "\n")
    job = submit(client, dataset_id=ds, loss="bce", optimizer={"type": "gd", "lr": 1.0}, epochs=500)
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded" and done["result"]["classes"] == [0, 1]
    answer = client.post(f"/v1/jobs/{job['id']}/predict", json={"rows": [{"x": 0}, {"x": 10}]}).get_json()
    assert answer["y"] == [0, 1] and answer["classes"] == [0, 1] and len(answer["probability"]) == 2
    text = client.post(
        f"/v1/jobs/{job['id']}/predict", json={"rows": [{"x": 10}]}, headers={"Accept": "text/csv"}
    ).get_data(as_text=True)
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == ["prediction", "probability_0", "probability_1"]
    assert row[0] == "1" and float(row[1]) + float(row[2]) == pytest.approx(1.0)
