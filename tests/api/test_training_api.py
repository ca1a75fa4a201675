"""Jobs trained by a real `python -m worker` against the real app: results, history, cancel."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.support.api import full_history, problem, submit, upload, wait_job
from tests.support.data import WORKED, diabetes
from tests.support.holds import Hold, wait_held

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def diabetes_csv() -> tuple[str, np.ndarray, np.ndarray]:
    return diabetes()


def test_worked_example_exhaustive_search(client):
    ds = upload(client, WORKED)
    job = submit(
        client,
        dataset_id=ds,
        model={"type": "linear", "bias": False},
        optimizer={"type": "exhaustive", "grid": {"w": {"min": 0, "max": 4, "steps": 41}}},
    )
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded", done
    assert done["result"]["outcome"] == "searched"
    assert done["result"]["params"]["weights"][0] == pytest.approx(2.0, abs=1e-9)
    surface = client.get(f"/v1/jobs/{job['id']}/surface").get_json()
    assert list(surface["axes"]) == ["w"] and len(surface["axes"]["w"]) == 41
    assert surface["cost"][0] == pytest.approx(56 / 3, rel=1e-9)
    assert min(surface["cost"]) == pytest.approx(0.0, abs=1e-9)


def test_mae_exhaustive_search_ignores_the_outlier(client):
    # y = 2x + 1 but for one outlier: mae's grid argmin stays on the line, mse's would not
    ds = upload(client, "x,y\n1,3\n2,5\n3,7\n4,9\n5,100\n")
    grid = {"w": {"min": 0, "max": 4, "steps": 41}, "b": {"min": -2, "max": 4, "steps": 61}}
    job = submit(client, dataset_id=ds, loss="mae", optimizer={"type": "exhaustive", "grid": grid})
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert result["outcome"] == "searched" and result["params"] == {
        "weights": [2.0],
        "bias": 1.0,
        "feature_names": ["x"],
    }
    assert result["train_loss"] == pytest.approx(89 / 5, rel=1e-12)  # |2·5 + 1 − 100| / 5
    surface = client.get(f"/v1/jobs/{job['id']}/surface").get_json()
    w, b = np.array(surface["axes"]["w"]), np.array(surface["axes"]["b"])
    x, y = np.arange(1.0, 6.0), np.array([3.0, 5.0, 7.0, 9.0, 100.0])
    brute = np.abs(w[:, None, None] * x + b[None, :, None] - y).mean(axis=-1)
    np.testing.assert_allclose(np.array(surface["cost"]), brute, rtol=1e-9)
    mse = ((w[:, None, None] * x + b[None, :, None] - y) ** 2).mean(axis=-1)
    assert np.unravel_index(np.argmin(mse), mse.shape) != (20, 30)  # mse is pulled toward the outlier


def test_worked_example_gradient_descent_and_divergence(client):
    ds = upload(client, WORKED)
    common = {
        "dataset_id": ds,
        "model": {"type": "linear", "bias": False},
        "standardize": False,
        "tolerance": 0,
    }
    good = submit(client, optimizer={"type": "gd", "lr": 0.01}, epochs=100, **common)
    bad = submit(client, optimizer={"type": "gd", "lr": 1.0}, epochs=100, **common)
    good = wait_job(client, good["id"])
    assert good["status"] == "succeeded", good
    assert abs(good["result"]["params"]["weights"][0] - 2) < 1e-3
    assert good["result"]["epochs_run"] == 100 and good["result"]["outcome"] == "max_epochs"
    bad = wait_job(client, bad["id"])
    assert bad["status"] == "failed" and bad["result"] is None
    assert bad["error"]["type"] == "diverged"
    assert "epoch" in bad["error"]["message"] and "learning rate" in bad["error"]["message"]
    history = full_history(client, good["id"])
    assert history["train"]["step"] == list(range(1, 101))


def test_gd_on_diabetes_matches_least_squares(client, diabetes_csv):
    csv, x, y = diabetes_csv
    ds = upload(client, csv)
    job = submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.1}, epochs=3000, tolerance=0)
    done = wait_job(client, job["id"])
    assert done["status"] == "succeeded", done
    design = np.hstack([x, np.ones((len(x), 1))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    optimum = float(np.mean((design @ coef - y) ** 2))
    result = done["result"]
    assert result["train_loss"] <= optimum * 1.005
    w, b = np.array(result["params"]["weights"]), result["params"]["bias"]
    assert float(np.mean((x @ w + b - y) ** 2)) == pytest.approx(result["train_loss"], rel=1e-9)
    assert 0 < result["r2"] < 1


def test_same_seed_same_history_bit_for_bit(client, diabetes_csv):
    ds = upload(client, diabetes_csv[0])
    body = {
        "dataset_id": ds,
        "optimizer": {"type": "sgd", "lr": 0.001},
        "epochs": 3,
        "seed": 7,
        "split": {"dev": 0.2},
    }
    a, b = submit(client, **body), submit(client, **body)
    a, b = wait_job(client, a["id"]), wait_job(client, b["id"])
    assert a["status"] == b["status"] == "succeeded"
    assert a["result"]["params"] == b["result"]["params"]
    assert full_history(client, a["id"]) == full_history(client, b["id"])


def test_cancel_running_job_within_a_second_keeps_history(client, settings, diabetes_csv):
    ds = upload(client, diabetes_csv[0])
    with Hold(settings.redis_url, ds, step=500):  # the job cannot end before the cancel
        job = submit(client, dataset_id=ds, optimizer={"type": "sgd", "lr": 0.0001}, epochs=50, tolerance=0)
        wait_held(client, job["id"], 500)
        asked = time.monotonic()
        r = client.post(f"/v1/jobs/{job['id']}/cancel")
        assert r.status_code == 202
        done = wait_job(client, job["id"], timeout=5)
        assert time.monotonic() - asked < 1.0
    assert done["status"] == "cancelled" and done["finished_at"]
    history = full_history(client, job["id"])
    assert history["train"]["step"] == list(range(1, len(history["train"]["step"]) + 1))
    assert len(history["train"]["step"]) >= 500
    problem(client.post(f"/v1/jobs/{job['id']}/cancel"), 409)


def test_cancel_queued_job_is_immediate(client, settings):
    # A queue no worker listens on keeps the job queued.
    from dataclasses import replace

    from service import create_app

    idle = create_app({"SETTINGS": replace(settings, queue_name=settings.queue_name + "-idle")}).test_client()
    ds = upload(idle, WORKED)
    job = submit(idle, dataset_id=ds, optimizer={"type": "gd"})
    r = idle.post(f"/v1/jobs/{job['id']}/cancel")
    assert r.status_code == 202 and r.get_json()["status"] == "cancelled"
    assert idle.get(f"/v1/jobs/{job['id']}/history").get_json()["complete"] is True


def test_history_pages_while_running_see_every_point_once(client, settings, diabetes_csv):
    ds = upload(client, diabetes_csv[0])
    per_epoch = -(-354 // 4)  # ceil(training rows / batch size)
    held_at = 15 * per_epoch + 40  # mid-epoch, past a few dev points
    body = {
        "dataset_id": ds,
        "optimizer": {"type": "minibatch", "lr": 0.01, "batch_size": 4},
        "epochs": 40,
        "tolerance": 0,
        "split": {"dev": 0.2},
    }
    steps, dev_steps, after = [], [], 0

    def read_page() -> dict:
        nonlocal after
        page = client.get(f"/v1/jobs/{job['id']}/history?after={after}&limit=37").get_json()
        steps.extend(page["train"]["step"])
        dev_steps.extend(page["dev"]["step"])
        after = page["next"]
        return page

    with Hold(settings.redis_url, ds, held_at) as hold:
        job = submit(client, **body)
        wait_held(client, job["id"], held_at)
        while after < held_at:  # every page of the running job's points so far
            assert not read_page()["complete"]
        hold.release()
        while not read_page()["complete"]:
            pass
    done = client.get(f"/v1/jobs/{job['id']}").get_json()
    assert done["status"] == "succeeded"
    assert steps == list(range(1, 40 * per_epoch + 1))
    assert dev_steps == [per_epoch * e for e in range(1, 41)]


def test_delete_dataset_in_use_is_409(client, settings, diabetes_csv):
    ds = upload(client, diabetes_csv[0])
    with Hold(settings.redis_url, ds, step=10):
        job = submit(client, dataset_id=ds, optimizer={"type": "sgd", "lr": 0.0001}, epochs=50)
        wait_held(client, job["id"], 10)
        problem(client.delete(f"/v1/datasets/{ds}"), 409)
        problem(client.delete(f"/v1/jobs/{job['id']}"), 409)
        client.post(f"/v1/jobs/{job['id']}/cancel")
        wait_job(client, job["id"], timeout=5)
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert client.delete(f"/v1/datasets/{ds}").status_code == 204


def test_delete_dataset_of_a_queued_job_is_409(client, settings):
    from dataclasses import replace

    from service import create_app

    idle = create_app({"SETTINGS": replace(settings, queue_name=settings.queue_name + "-idle")}).test_client()
    ds = upload(idle, WORKED)
    job = submit(idle, dataset_id=ds, optimizer={"type": "gd"})
    problem(idle.delete(f"/v1/datasets/{ds}"), 409)
    idle.post(f"/v1/jobs/{job['id']}/cancel")
    assert idle.delete(f"/v1/datasets/{ds}").status_code == 204


def test_no_nan_tokens_in_responses(client):
    ds = upload(client, WORKED)
    job = submit(
        client,
        dataset_id=ds,
        model={"type": "linear", "bias": False},
        standardize=False,
        optimizer={"type": "gd", "lr": 50.0},
        epochs=1000,
    )
    wait_job(client, job["id"])
    for path in (f"/v1/jobs/{job['id']}", f"/v1/jobs/{job['id']}/history"):
        text = client.get(path).get_data(as_text=True)
        assert "NaN" not in text and "Infinity" not in text
