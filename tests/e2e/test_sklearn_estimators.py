"""descent.sklearn against a real stack (docker-compose.yml's commands, natively): the estimators in
cross_val_score, a Pipeline and GridSearchCV, each fold's score equal to a job trained directly
through the API on the same rows with the same config."""

from __future__ import annotations

import numpy as np
import onnx
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from descent.client import ApiError, Client
from descent.sklearn import DescentClassifier, DescentRegressor
from tests.support.api import HttpClient, wait_job
from tests.support.real_data import titanic
from tests.support.stack import compose_stack


@pytest.fixture(scope="module")
def url():
    with compose_stack(redis_args=("--appendonly", "no"), wait_for_worker=True) as stack:
        yield stack.base


def passengers() -> tuple[pd.DataFrame, pd.Series]:
    frame = titanic().drop(columns=["Name", "PassengerId"])
    return frame.drop(columns=["Survived"]), frame["Survived"].map({1: "survived", 0: "died"})


def test_cross_val_score_of_each_fold_equals_a_job_trained_directly_on_its_rows(url):
    X, y = passengers()
    clf = DescentClassifier(optimizer="adam", lr=0.05, batch_size=32, epochs=20, url=url, progress=False)
    scores = cross_val_score(clf, X, y, cv=5)
    client, http = Client(url), HttpClient(url)
    for score, (train, test) in zip(scores, StratifiedKFold(5).split(X, y), strict=True):
        dataset = client.upload(X.iloc[train], target="target", y=y.iloc[train].rename("target"))
        job = client.submit(clf.job_request(dataset["id"], "bce"))
        assert wait_job(http, job["id"])["status"] == "succeeded"
        predicted = client.predict(job["id"], X.iloc[test])["y"]
        assert score == pytest.approx(accuracy_score(y.iloc[test], predicted), abs=1e-6)
    assert scores.mean() > 0.6


def test_a_classifier_has_classes_probabilities_and_linear_coefficients(url):
    X, y = passengers()
    clf = DescentClassifier(epochs=20, lr=0.05, url=url, progress=False).fit(X, y)
    assert list(clf.classes_) == ["died", "survived"]
    probability = clf.predict_proba(X.head(30))
    np.testing.assert_allclose(probability.sum(axis=1), 1.0)
    assert set(clf.predict(X.head(30))) <= {"died", "survived"}
    params = clf.result_["params"]
    np.testing.assert_array_equal(clf.coef_, [params["weights"]])
    np.testing.assert_array_equal(clf.intercept_, [params["bias"]])
    assert clf.score(X, y) == pytest.approx(accuracy_score(y, clf.predict(X)))
    assert list(clf.feature_names_in_) == list(X.columns) and clf.n_features_in_ == X.shape[1]


def test_a_pipeline_and_a_grid_search_over_lr_run_on_arrays(url):
    data = load_diabetes()
    X, y = data.data, data.target
    pipeline = make_pipeline(StandardScaler(), DescentRegressor(optimizer="gd", lr=0.1, epochs=200, url=url, progress=False))
    pipeline.fit(X[:300], y[:300])
    assert pipeline.score(X[300:], y[300:]) > 0.3
    search = GridSearchCV(DescentRegressor(optimizer="gd", epochs=100, url=url, progress=False), {"lr": [0.001, 0.1]}, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"lr": 0.1}  # 100 steps of 0.001 barely move from the start
    assert len(search.cv_results_["mean_test_score"]) == 2
    reg = search.best_estimator_
    assert reg.coef_.shape == (10,) and isinstance(reg.intercept_, float)
    np.testing.assert_allclose(reg.predict(X[:5]), X[:5] @ reg.coef_ + reg.intercept_, rtol=1e-6)


def test_parameters_are_the_jobs_fields_and_clone_keeps_them() -> None:
    reg = DescentRegressor(model="mlp", hidden=[16, 8], activation="tanh", lr=0.02, dev=0.2, url="http://x")
    twin = clone(reg)
    assert twin.get_params() == reg.get_params()
    twin.set_params(lr=0.5, optimizer="momentum", momentum=0.9)
    request = twin.job_request("ds_1", "mse")
    assert request["model"] == {"type": "mlp", "hidden": [16, 8], "activation": "tanh"}
    assert request["optimizer"] == {"type": "momentum", "lr": 0.5, "batch_size": 32, "momentum": 0.9}
    assert request["split"] == {"dev": 0.2} and reg.lr == 0.02


def test_scikit_learns_estimator_checks_pass(url):
    """Every check of sklearn.utils.estimator_checks that applies (array API input is skipped: no
    SCIPY_ARRAY_API), each fit a job on the stack."""
    for estimator in (
        DescentRegressor(epochs=200, lr=0.05, url=url, progress=False),
        DescentClassifier(epochs=50, lr=0.05, url=url, progress=False),
    ):
        results = check_estimator(estimator, on_fail=None)
        failed = [(r["check_name"], str(r["exception"])[:300]) for r in results if r["status"] == "failed"]
        assert not failed, failed
        assert sum(r["status"] == "passed" for r in results) >= 45


def test_the_client_lists_reads_exports_and_deletes(url):
    client = Client(url)
    X, y = passengers()
    dataset = client.upload(X, target="Survived", y=y, name="passengers")
    assert client.dataset(dataset["id"])["name"] == "passengers"
    assert dataset["id"] in [d["id"] for d in client.datasets(limit=1)]  # followed over pages of one
    job = client.submit({"dataset_id": dataset["id"], "loss": "bce", "optimizer": {"type": "gd"}, "epochs": 5})
    assert wait_job(HttpClient(url), job["id"])["status"] == "succeeded"
    assert [j["id"] for j in client.jobs(dataset_id=dataset["id"])] == [job["id"]]
    assert client.export(job["id"])["classes"] == ["died", "survived"]
    assert onnx.load_from_string(client.export(job["id"], "onnx")).graph.input[0].name == "Sex"
    with pytest.raises(ApiError) as refused:
        client.delete_dataset(dataset["id"] + "0")
    assert refused.value.status == 404 and refused.value.problem["status"] == 404
    client.delete_job(job["id"])
    client.delete_dataset(dataset["id"])
    assert dataset["id"] not in [d["id"] for d in client.datasets()]
