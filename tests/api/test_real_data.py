"""Tables as people have them, uploaded as they are, trained and predicted through HTTP.

References: numpy's least squares and scikit-learn's LogisticRegression on the very columns the job
encoded (its own fitted pipeline, read back from `config.features.fitted`).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from descent.predict import predict
from descent.preprocess import Pipeline, columns_from_records
from descent.settings import Settings
from service.tables import ReadOptions, read_upload
from tests.support.api import problem, submit, wait_job
from tests.support.real_data import (
    csv_text,
    european_csv,
    feather_bytes,
    housing,
    parquet_bytes,
    sales,
    titanic,
)


def post(client, data: bytes | str, content_type: str, query: str = "") -> dict:
    r = client.post(f"/v1/datasets?{query}", data=data, content_type=content_type)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def encoded(text: str | bytes, job: dict, **options) -> tuple[np.ndarray, np.ndarray]:
    """The matrix the job trained on, rebuilt from the file with the job's own fitted pipeline."""
    raw = text.encode() if isinstance(text, str) else text
    table = read_upload(raw, "csv", ReadOptions(**options), Settings())
    pipeline = Pipeline.from_json(job["config"]["features"]["fitted"])
    x = pipeline.transform({c.name: c for c in table.columns}, table.rows).x.astype(np.float64)
    return x, np.asarray(table.column(table.target).values, dtype=np.float64)


def trained(client, body: dict) -> dict:
    done = wait_job(client, submit(client, **body)["id"])
    assert done["status"] == "succeeded", done
    return done


def test_housing_with_yes_no_columns_and_the_target_first_reaches_least_squares(client, worker) -> None:
    text = csv_text(housing())
    ds = post(client, text, "text/csv", "target=price")
    assert ds["target_name"] == "price" and "address" not in ds["feature_names"]
    job = trained(
        client,
        {"dataset_id": ds["id"], "optimizer": {"type": "gd", "lr": "auto"}, "epochs": 5000, "tolerance": 0},
    )
    x, y = encoded(text, job, target="price")
    design = np.column_stack([x, np.ones(len(y))])
    w, *_ = np.linalg.lstsq(design, y, rcond=None)
    best = float(np.mean((design @ w - y) ** 2))
    assert job["result"]["train_loss"] <= 1.01 * best
    names = job["result"]["params"]["feature_names"]
    assert "mainroad=yes" in names and "furnishing=furnished" in names and len(names) == x.shape[1]


def test_titanic_bce_matches_logistic_regression_and_predicts_raw_rows(client, worker) -> None:
    text = csv_text(titanic())
    ds = post(client, text, "text/csv", "target=Survived")
    job = trained(
        client,
        {
            "dataset_id": ds["id"],
            "loss": "bce",
            "features": {"exclude": ["PassengerId"], "missing_indicator": True},
            "optimizer": {"type": "adam", "lr": 0.05, "batch_size": 64},
            "epochs": 300,
        },
    )
    x, y = encoded(text, job, target="Survived")
    reference = LogisticRegression(C=np.inf, max_iter=10_000).fit(x, y)
    assert abs(job["result"]["accuracy"] - reference.score(x, y)) <= 0.02
    assert job["result"]["classes"] == [0, 1]
    rows = [
        {"Pclass": "3rd", "Sex": "female", "Age": None, "Fare": 7.25, "Name": "X, Mrs. Y"},
        {"Fare": 80, "Sex": "male", "Pclass": "1st", "Age": 40, "Embarked": "Z"},  # unseen port
        {"Sex": "male"},  # every other key missing
    ]
    answer = client.post(f"/v1/jobs/{job['id']}/predict", json={"rows": rows}).get_json()
    pipeline = Pipeline.from_json(job["config"]["features"]["fitted"])
    by_hand = pipeline.transform(columns_from_records(rows, pipeline), len(rows))
    expected = predict(job["result"]["params"], job["config"]["model"], "bce", by_hand.x)
    assert answer["probability"] == pytest.approx(expected["probability"], rel=1e-12)
    assert answer["y"] == [int(v) for v in expected["y"]] and answer["warnings"] == by_hand.warnings
    assert "'Z'" in answer["warnings"][0]
    exported = client.get(f"/v1/jobs/{job['id']}/model").get_json()  # the export applied by hand
    again = Pipeline.from_json(exported["preprocessing"])
    x = again.transform(columns_from_records(rows, again), len(rows)).x
    logits = x.astype(np.float64) @ np.array(exported["params"]["weights"]) + exported["params"]["bias"]
    assert 1 / (1 + np.exp(-logits)) == pytest.approx(answer["probability"], rel=1e-12)
    assert exported["classes"] == [0, 1] and exported["feature_names"] == again.feature_names


def test_a_string_class_column_comes_back_as_its_labels(client, worker) -> None:
    text = csv_text(titanic())
    ds = post(client, text, "text/csv", "target=Pclass")
    job = trained(
        client,
        {
            "dataset_id": ds["id"],
            "loss": "cross_entropy",
            "features": {"include": ["Fare", "Sex"]},
            "optimizer": {"type": "adam", "lr": 0.05, "batch_size": 64},
            "epochs": 50,
            "split": {"dev": 0.25},
        },
    )
    assert job["result"]["classes"] == ["1st", "2nd", "3rd"] and job["config"]["split"]["stratify"] is True
    answer = client.post(
        f"/v1/jobs/{job['id']}/predict", json={"columns": ["Sex", "Fare"], "rows": [["male", 300.0], ["female", 5.0]]}
    ).get_json()
    assert set(answer["y"]) <= {"1st", "2nd", "3rd"} and answer["classes"] == ["1st", "2nd", "3rd"]
    assert all(sum(p) == pytest.approx(1.0) for p in answer["probability"])


def test_a_semicolon_file_with_decimal_commas_trains_and_predicts_by_name(client, worker) -> None:
    ds = post(client, european_csv(), "text/csv", "decimal=,")
    assert [c["kind"] for c in ds["columns"]] == ["number", "category", "number"]
    counts = [(c["value"], c["count"]) for c in ds["columns"][1]["categories"]]
    assert counts == [("blau", 24), ("rot", 24), ("grün", 12)]  # stray spaces trimmed; ties in label order
    job = trained(client, {"dataset_id": ds["id"], "optimizer": {"type": "gd", "lr": "auto"}, "epochs": 3000})
    x, y = encoded(european_csv(), job, decimal=",")
    design = np.column_stack([x, np.ones(len(y))])
    w, *_ = np.linalg.lstsq(design, y, rcond=None)
    assert job["result"]["train_loss"] <= 1.01 * float(np.mean((design @ w - y) ** 2))
    answer = client.post(f"/v1/jobs/{job['id']}/predict", json={"rows": [{"farbe": " grün", "größe": 2}]})
    assert answer.get_json()["y"][0] == pytest.approx(3 * 2 + 4, abs=0.3)


def test_a_date_column_with_empty_cells_trains_on_its_parts(client, worker) -> None:
    ds = post(client, csv_text(sales()), "text/csv")
    assert [c["kind"] for c in ds["columns"]] == ["datetime", "number", "number"]
    job = trained(client, {"dataset_id": ds["id"], "optimizer": {"type": "gd", "lr": "auto"}, "epochs": 500})
    names = job["result"]["params"]["feature_names"]
    assert names[:4] == ["date.year", "date.month", "date.day", "date.dayofweek"]
    answer = client.post(
        f"/v1/jobs/{job['id']}/predict", json={"rows": [{"date": "2021-03-06", "temperature": 20}, {"date": None}]}
    ).get_json()
    assert len(answer["y"]) == 2 and all(isinstance(v, float) for v in answer["y"])


@pytest.mark.parametrize(
    "make, target", [(housing, "price"), (titanic, "Survived"), (sales, "sold")], ids=["housing", "titanic", "sales"]
)
def test_parquet_and_arrow_uploads_are_the_same_dataset_as_the_csv(client, make, target: str) -> None:
    frame = make()
    same = ("rows", "features", "feature_names", "target_name", "columns", "warnings", "stats")
    from_csv = post(client, csv_text(frame), "text/csv", f"target={target}")
    for data, content_type in (
        (parquet_bytes(frame), "application/vnd.apache.parquet"),
        (feather_bytes(frame), "application/vnd.apache.arrow.file"),
    ):
        other = post(client, data, content_type, f"target={target}")
        assert {k: other.get(k) for k in same} == {k: from_csv.get(k) for k in same}


def test_a_multipart_parquet_file_is_read_by_its_extension(client) -> None:
    frame = sales()
    r = client.post(
        "/v1/datasets",
        data={"file": (io.BytesIO(parquet_bytes(frame)), "sales.parquet"), "target": "sold"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["name"] == "sales.parquet" and r.get_json()["rows"] == len(frame)


def test_bad_real_world_input_is_a_precise_400(client) -> None:
    text = csv_text(titanic())
    ds = post(client, text, "text/csv", "target=Survived")["id"]
    cases = [
        ({"features": {"include": ["Name"]}, "loss": "bce"}, "features.include", "text column"),
        ({"features": {"exclude": ["Nope"]}, "loss": "bce"}, "features.exclude", "'Nope'"),
        ({"loss": "bce", "positive": 3}, "positive", "not a value"),
    ]
    for body, field, words in cases:
        got = problem(client.post("/v1/jobs", json={"dataset_id": ds, "optimizer": {"type": "gd"}, **body}), 400)
        assert got["errors"][0]["field"] == field and words in got["errors"][0]["message"], got
    three = post(client, text, "text/csv", "target=Pclass")["id"]
    got = problem(client.post("/v1/jobs", json={"dataset_id": three, "loss": "bce", "optimizer": {"type": "gd"}}), 400)
    assert "two distinct values; 'Pclass' has 3" in got["errors"][0]["message"]
    constant = post(client, "a,b\n1,x\n2,x\n", "text/csv")["id"]
    got = problem(client.post("/v1/jobs", json={"dataset_id": constant, "loss": "bce", "optimizer": {"type": "gd"}}), 400)
    assert "'b' has 1" in got["errors"][0]["message"]
    wrong = problem(client.post("/v1/datasets", data=text, content_type="application/vnd.apache.parquet"), 400)
    assert "not a Parquet file" in wrong["detail"]
