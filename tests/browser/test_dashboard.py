"""The dashboard in headless Chromium against a real stack: upload, train from the form, watch the
curve grow, read the result; failures, exhaustive surfaces and sweeps; a screenshot for the README."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tests.support.api import full_history, get_job, submit, upload, wait_job
from tests.support.browser import COUNT_COLOUR, COUNT_NON_BACKGROUND, dataset_chosen, seen_pixels
from tests.support.data import WORKED
from tests.support.holds import Hold, wait_held
from tests.support.processes import ROOT, WORKER_DEADLINE, wait_for

SCREENSHOT = ROOT / "docs" / "dashboard.png"

pytestmark = pytest.mark.timeout(240)

SMOOTHED_RGB = (0x00, 0x72, 0xB2)  # views/job.js SMOOTHED
DEV_RGB = (0xD5, 0x5E, 0x00)  # views/job.js DEV

def demo_csv(rows: int = 1000) -> bytes:
    """y = 3·x1 − 2·x2 + 1 plus a little noise: a fit that converges to R² ≈ 0.98."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + 1 + rng.normal(scale=0.5, size=rows)
    lines = ["x1,x2,y", *(f"{a:.5f},{b:.5f},{c:.5f}" for (a, b), c in zip(x, y, strict=True))]
    return ("\n".join(lines) + "\n").encode()


def enter_key(page, key: str) -> None:
    page.get_by_label("Key", exact=True).fill(key)
    page.locator("#key-form").get_by_role("button", name="Save").click()


def test_upload_train_watch_the_curve_and_screenshot(page, stack):
    page.goto("/")
    # the key box opens by itself on the first 401; a wrong key is refused, the right one works
    panel = page.locator("#key-panel")
    panel.wait_for(state="visible")
    assert "needs an API key" in page.locator("#key-message").inner_text()
    enter_key(page, "not-the-key")
    panel.wait_for(state="visible")
    assert "refused" in page.locator("#key-message").inner_text()
    enter_key(page, stack.key)
    page.get_by_role("heading", name="Datasets").wait_for()
    assert page.evaluate("localStorage.getItem('descent.apiKey')") == stack.key

    # upload a CSV through the form: its page shows the columns; the job form follows from there
    page.get_by_label("Data file").set_input_files(
        {"name": "demo.csv", "mimeType": "text/csv", "buffer": demo_csv()}
    )
    page.get_by_label("Name").fill("browser-demo")
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Dataset browser-demo").wait_for()
    assert "Uploaded “browser-demo”: 1000 rows × 2 features, target y" in page.locator("#notice").inner_text()
    assert page.locator("#dataset-columns tbody tr").count() == 3
    assert page.locator("#dataset-columns svg.mini-chart").count() == 3  # a histogram per number column
    page.get_by_role("link", name="Train on it").click()
    page.get_by_role("heading", name="New training job").wait_for()
    dataset_chosen(page)
    uploaded = stack.api.get("/v1/datasets").get_json()["datasets"][0]
    assert uploaded["name"] == "browser-demo" and (uploaded["rows"], uploaded["features"]) == (1000, 2)
    assert page.get_by_label("Dataset").input_value() == uploaded["id"]

    # a bad request: the problem+json errors appear next to the fields they name
    page.get_by_label("Optimizer", exact=True).select_option("minibatch")
    page.get_by_label("Learning rate").fill("-1")
    page.get_by_label("Epochs").fill("0")
    page.get_by_role("button", name="Start training").click()
    lr_error = page.locator('[data-field="optimizer.lr"] .field-error')
    lr_error.wait_for()
    assert "auto" in lr_error.inner_text()
    assert page.locator('[data-field="epochs"] .field-error').is_visible()
    assert page.get_by_label("Learning rate").get_attribute("aria-invalid") == "true"
    assert "/new" in page.url

    # a good one: an MLP, 200 epochs of 50 minibatches, a dev split (a few seconds of training)
    page.get_by_label("Model", exact=True).select_option("mlp")
    page.get_by_label("Hidden layer widths").fill("32, 32")
    page.get_by_label("Activation").select_option("tanh")
    page.get_by_label("Learning rate").fill("0.01")
    page.get_by_label("Epochs").fill("200")
    page.get_by_label("Batch size").fill("16")
    page.get_by_label("Tolerance").fill("0")
    page.get_by_label("Dev split").fill("0.2")
    # the job waits at step 5,000 of its 10,000 (tests.support.holds) until the test has seen a
    # partly drawn curve: the curve grows live from the SSE stream, whatever the machine's speed
    with Hold(stack.redis_url, uploaded["id"], step=5_000) as hold:
        page.get_by_role("button", name="Start training").click()
        page.wait_for_url("**/#/jobs/job_*")
        job_id = page.url.rsplit("/", 1)[1]
        assert page.locator("[data-error-for]").count() == 0
        wait_held(stack.api, job_id, 5_000)
        figure = page.locator("#loss-figure")
        partial = wait_for(
            lambda: (n := int(figure.get_attribute("data-points"))) >= 5_000 and n, 60, 0.1, "a held curve"
        )
        assert partial < 10_000 and figure.get_attribute("data-complete") != "true"
        hold.release()
        seen = [partial]
        deadline = time.monotonic() + 90
        while figure.get_attribute("data-complete") != "true":
            seen.append(int(figure.get_attribute("data-points")))
            assert time.monotonic() < deadline, f"the stream did not end; points seen: {seen[-5:]}"
            page.wait_for_timeout(100)  # a poll's period, not a synchronisation
    final = int(figure.get_attribute("data-points"))
    history = full_history(stack.api, job_id)
    assert final == len(history["train"]["step"]) == 10_000
    assert int(figure.get_attribute("data-dev-points")) == len(history["dev"]["step"]) == 200
    assert seen == sorted(seen), "the number of plotted points went down"

    # the result, as the API has it
    page.locator("#outcome").wait_for()
    job = get_job(stack.api, job_id)
    assert job["status"] == "succeeded"
    assert page.locator("#outcome").inner_text() == job["result"]["outcome"] == "max_epochs"
    assert float(page.locator('#result-facts [data-key="r2"]').inner_text()) == pytest.approx(
        job["result"]["r2"], rel=1e-3
    )
    assert job["result"]["r2"] > 0.95
    assert page.locator(".status-slot").inner_text() == "succeeded"
    assert not page.get_by_role("button", name="Cancel job").is_visible()
    assert "layer 1: 32 × 2 weights, 32 biases" in page.locator("#result").inner_text()

    # drawn in pixels: the smoothed train curve and the dev curve are on the canvas
    assert page.evaluate(COUNT_COLOUR, ["#loss-figure canvas", SMOOTHED_RGB, 12]) > 300
    assert page.evaluate(COUNT_COLOUR, ["#loss-figure canvas", DEV_RGB, 12]) > 100

    # the client-side smoothing is the API's formula: at the job's β it ends where the API's does,
    # at β = 1 it is the raw loss
    caption = page.locator("#loss-figure figcaption")
    assert _smoothed_in(caption.inner_text()) == pytest.approx(history["train"]["smoothed"][-1], rel=2e-3)
    page.locator("#smoothing").fill("1")
    assert page.locator("#beta-out").inner_text() == "1.00"
    assert _smoothed_in(caption.inner_text()) == pytest.approx(history["train"]["loss"][-1], rel=2e-3)
    page.locator("#smoothing").fill("0.05")
    assert page.locator("#beta-out").inner_text() == "0.05"

    # log scale redraws the same curves
    page.get_by_label("Log scale").check()
    seen_pixels(page, COUNT_COLOUR, ["#loss-figure canvas", SMOOTHED_RGB, 12], 300)

    page.locator("#notice").get_by_role("button", name="Dismiss").click()
    assert page.locator("#notice").inner_text() == ""
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000

    # the jobs list shows it, finished, with a full progress bar
    page.get_by_role("link", name="Jobs", exact=True).click()
    row = page.locator(f'tr[data-job="{job_id}"]')
    row.wait_for()
    assert row.get_attribute("data-status") == "succeeded"
    assert row.locator("progress").evaluate("p => p.value") == 1


def _smoothed_in(caption: str) -> float:
    """The 'smoothed loss X' number of the loss figure's caption."""
    text = caption.split("smoothed loss ", 1)[1].split(";", 1)[0].split(" ", 1)[0]
    return float(text.replace("−", "-"))


def test_a_dataset_page_shows_each_columns_kind_and_distribution(page, stack):
    rows = "\n".join(
        f"{k},{['red', 'green', 'blue'][k % 3] if k % 10 else ''},{k % 7 + 0.5},2024-01-{k % 28 + 1:02d},name {k}"
        for k in range(60)
    )
    r = stack.api.post(
        "/v1/datasets?name=mixed&target=size",
        data="id,colour,size,day,label\n" + rows + "\n",
        content_type="text/csv",
    )
    assert r.status_code == 201, r.get_json()
    page.add_init_script(f"localStorage.setItem('descent.apiKey', {stack.key!r})")
    page.goto(f"/#/datasets/{r.get_json()['id']}")
    page.get_by_role("heading", name="Dataset mixed").wait_for()
    kinds = page.locator("#dataset-columns tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["number", "category", "number", "datetime", "text"]
    colour = page.locator('#dataset-columns tr[data-column="colour"]')
    assert colour.locator("td").nth(2).inner_text() == "6"  # missing cells
    assert colour.locator("svg.mini-chart rect").count() == 3  # one bar per colour
    assert "goes up by 1" in page.locator("#dataset-warnings").inner_text()
    assert "'label' is text" in page.locator("#dataset-warnings").inner_text()


def test_a_diverged_job_shows_its_error(page, stack):
    ds = upload(stack.api, WORKED, "name=course")
    job = submit(
        stack.api,
        **{
            "dataset_id": ds,
            "model": {"bias": False},
            "standardize": False,
            "optimizer": {"type": "gd", "lr": 1.0},
        },
    )
    ended = wait_job(stack.api, job["id"])
    assert ended["error"]["type"] == "diverged"
    page.add_init_script(f"localStorage.setItem('descent.apiKey', {stack.key!r})")
    page.goto(f"/#/jobs/{job['id']}")
    alert = page.locator("#job-error")
    alert.wait_for()
    assert alert.get_attribute("data-error-type") == "diverged"
    assert "Training diverged" in alert.inner_text()
    assert ended["error"]["message"] in alert.inner_text()
    assert page.locator(".status-slot").inner_text() == "failed · diverged"
    page.locator('#loss-figure[data-complete="true"]').wait_for()
    assert int(page.locator("#loss-figure").get_attribute("data-points")) > 0
    assert page.get_by_label("Log scale").is_checked()


@pytest.mark.parametrize("with_bias", [False, True], ids=["curve", "heatmap"])
def test_exhaustive_search_shows_its_cost_surface(page, stack, with_bias):
    ds = upload(stack.api, WORKED, "name=course")
    grid = {"w": {"min": 0, "max": 4, "steps": 41}}
    if with_bias:
        grid["b"] = {"min": -2, "max": 2, "steps": 41}
    job = submit(
        stack.api,
        **{"dataset_id": ds, "model": {"bias": with_bias}, "optimizer": {"type": "exhaustive", "grid": grid}},
    )
    assert wait_job(stack.api, job["id"])["status"] == "succeeded"
    page.add_init_script(f"localStorage.setItem('descent.apiKey', {stack.key!r})")
    page.goto(f"/#/jobs/{job['id']}")
    page.locator('#surface-figure[data-loaded="true"]').wait_for()
    caption = page.locator("#surface-figure figcaption").inner_text()
    assert "Minimum cost 0 at w = 2" in caption
    if with_bias:
        assert "b = 0" in caption
    # a heat map fills its plot box; a curve is a line, its minimum marked
    seen_pixels(page, COUNT_NON_BACKGROUND, "#surface-figure canvas", 200_000 if with_bias else 5_000)
    assert page.locator("#outcome").inner_text() == "searched"


def test_sweep_page_ranks_and_overlays_its_jobs(page, stack):
    ds = upload(stack.api, "x,y\n1,2\n2,4\n3,6\n4,8\n", "name=sweepable")
    r = stack.api.post(
        "/v1/sweeps",
        json={
            "dataset_id": ds,
            "base": {
                "model": {"bias": False},
                "standardize": False,
                "tolerance": 0,
                "optimizer": {"type": "gd"},
            },
            "grid": {"optimizer.lr": [0.001, 0.01, 0.05]},
        },
    )
    assert r.status_code == 202, r.get_data(as_text=True)
    sweep_id = r.get_json()["id"]
    page.add_init_script(f"localStorage.setItem('descent.apiKey', {stack.key!r})")
    page.goto(f"/#/sweeps/{sweep_id}")
    page.locator('#sweep-figure[data-curves="3"]').wait_for(timeout=60_000)

    def done() -> dict | None:
        sweep = stack.api.get(f"/v1/sweeps/{sweep_id}").get_json()
        return sweep if sweep["status"] == "done" else None

    # best_job_id is the best so far while the sweep runs; compare once every job has ended
    sweep = wait_for(done, WORKER_DEADLINE, interval=0.05, what=f"sweep {sweep_id} to end")
    page.locator(f'#sweep-table tr.best[data-job="{sweep["best_job_id"]}"]').wait_for(timeout=60_000)
    best = page.locator("#sweep-table tr.best")
    assert best.count() == 1
    assert "lr = 0.05" in best.inner_text()
    rows = page.locator("#sweep-table tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).get_attribute("data-job") for i in range(3)] == [j["id"] for j in sweep["jobs"]]
    seen_pixels(page, COUNT_NON_BACKGROUND, "#sweep-figure canvas", 2_000)
    assert not math.isnan(float(rows.nth(0).locator("td").nth(5).inner_text()))


def test_cancel_a_running_job(page, stack):
    ds = upload(stack.api, WORKED, "name=held")
    body = {"dataset_id": ds, "optimizer": {"type": "sgd", "lr": 0.001}, "epochs": 1000, "tolerance": 0}
    with Hold(stack.redis_url, ds, step=100):  # running until the button is clicked
        job = submit(stack.api, **body)
        page.add_init_script(f"localStorage.setItem('descent.apiKey', {stack.key!r})")
        page.goto(f"/#/jobs/{job['id']}")
        page.locator(".status-slot .status-running").wait_for(timeout=60_000)
        wait_for(lambda: int(page.locator("#loss-figure").get_attribute("data-points")) > 0, WORKER_DEADLINE, 0.1, "points")
        page.get_by_role("button", name="Cancel job").click()
        page.locator(".status-slot .status-cancelled").wait_for(timeout=30_000)
    assert "cancelled" in page.locator(".alert-info").inner_text()
    assert not page.get_by_role("button", name="Cancel job").is_visible()
    assert get_job(stack.api, job["id"])["status"] == "cancelled"
    page.locator('#loss-figure[data-complete="true"]').wait_for()
