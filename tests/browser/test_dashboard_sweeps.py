"""The dashboard's model selection in headless Chromium against a real stack: a learning-curve sweep
started from the sweep form and its chart (the screenshot in the README), the form's errors next to
their fields, cross-validation's candidates and a search's trials, the sweeps list page by page,
jobs compared on one chart, a job's metrics per split and its history downloaded as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.api import full_history, get_job, submit, upload, wait_job, wait_sweep
from tests.support.browser import COUNT_COLOUR, dataset_chosen, downloaded_text, seen_pixels, signed_in
from tests.support.data import WORKED, noisy_classes, noisy_cubic
from tests.support.processes import ROOT

LEARNING_CURVE_PNG = ROOT / "docs" / "learning_curve.png"
FRACTIONS = [0.05, 0.1, 0.2, 0.5, 1]

pytestmark = pytest.mark.timeout(300)


def points(page, figure: str, series: str) -> list[tuple[float, float]]:
    """The (x, y) of each point the SVG chart in `figure` draws for `series`, left to right."""
    drawn = page.locator(f'{figure} g.series[data-series="{series}"] circle.point').evaluate_all(
        "cs => cs.map(c => [Number(c.dataset.x), Number(c.dataset.y)])"
    )
    return [(x, y) for x, y in drawn]


def test_a_learning_curve_sweep_from_the_form_draws_train_and_dev_cost_against_rows(page, stack):
    dataset = upload(stack.api, noisy_cubic(600), "name=cubic")
    signed_in(page, stack.key)
    page.goto(f"/#/sweeps/new?dataset={dataset}")
    page.get_by_role("heading", name="New sweep").wait_for()
    dataset_chosen(page)
    # the base job: an over-sized MLP for 600 noisy rows, a 30 % dev split
    page.get_by_label("Model", exact=True).select_option("mlp")
    page.get_by_label("Hidden layer widths").fill("32, 32")
    page.get_by_label("Activation").select_option("tanh")
    page.get_by_label("Optimizer", exact=True).select_option("adam")
    page.get_by_label("Learning rate").fill("0.01")
    page.get_by_label("Batch size").fill("32")
    page.get_by_label("Epochs").fill("300")
    page.get_by_label("Tolerance").fill("0")
    page.get_by_label("Dev split").fill("0.3")
    # the grid: the default row out, the learning-curve row in
    page.locator(".grid-row").first.get_by_role("button", name="Remove").click()
    page.get_by_role("button", name="Learning curve (data.train_fraction)").click()
    assert page.locator(".grid-row .row-path").input_value() == "data.train_fraction"
    page.get_by_role("button", name="Start the sweep").click()
    page.wait_for_url("**/#/sweeps/sweep_*")
    sweep_id = page.url.rsplit("/", 1)[1]
    assert "Sweep started" in page.locator("#notice").inner_text()

    sweep = wait_sweep(stack.api, sweep_id)
    assert sweep["grid"] == {"data.train_fraction": FRACTIONS}
    assert sweep["base"]["model"] == {"type": "mlp", "hidden": [32, 32], "activation": "tanh"}
    assert sweep["counts"] == {"succeeded": 5}
    jobs = sorted(sweep["jobs"], key=lambda j: j["train_rows"])
    assert [j["train_rows"] for j in jobs] == [int(f * 420) for f in FRACTIONS]  # of 600 − 180 dev rows

    figure = page.locator('#learning-curve[data-points="5"]')
    figure.wait_for(timeout=60_000)
    # every point where the API puts it: x the child's training rows, y its train or dev cost
    assert points(page, "#learning-curve", "dev") == [(j["train_rows"], j["dev_loss"]) for j in jobs]
    assert points(page, "#learning-curve", "train") == [(j["train_rows"], j["train_loss"]) for j in jobs]
    assert page.locator("#learning-curve svg path").count() >= 2  # a line through each series
    assert page.locator("#learning-curve svg").get_attribute("aria-label").startswith("Learning curve")
    assert "training rows" in page.locator("#learning-curve svg").inner_html()
    # the lesson: few rows fit well and generalise badly; more rows close the gap
    assert jobs[0]["dev_loss"] > jobs[-1]["dev_loss"] and jobs[0]["train_loss"] < jobs[-1]["train_loss"]
    assert jobs[0]["dev_loss"] - jobs[0]["train_loss"] > 3 * abs(jobs[-1]["dev_loss"] - jobs[-1]["train_loss"])
    # the ranking shows each child's rows; no validation curve besides (the only override is the fraction)
    rows = page.locator("#sweep-table tbody tr")
    assert rows.count() == 5
    assert page.locator("#validation-curve-card").is_hidden()

    page.locator("#notice").get_by_role("button", name="Dismiss").click()
    page.locator("#learning-curve-card").screenshot(path=str(LEARNING_CURVE_PNG))
    assert LEARNING_CURVE_PNG.stat().st_size > 20_000


def field_error(page, path: str):
    return page.locator(f'.field-error[data-error-for="{path}"]')


def test_the_sweep_form_shows_each_error_next_to_its_field(page, stack):
    dataset = upload(stack.api, noisy_cubic(100), "name=small-cubic")
    before = len(stack.api.get("/v1/sweeps?limit=500").get_json()["sweeps"])
    signed_in(page, stack.key)
    page.goto(f"/#/sweeps/new?dataset={dataset}")
    dataset_chosen(page)
    start = page.get_by_role("button", name="Start the sweep")
    folds = page.get_by_label("Cross-validation folds")
    path, values = page.locator(".grid-row .row-path").first, page.locator(".grid-row .row-values").first

    # two faults of the sweep's own shape at once, each next to its field, both in the summary
    folds.fill("1")
    path.fill("Optimizer.LR")
    start.click()
    field_error(page, "validation.folds").wait_for()
    assert ">= 2" in field_error(page, "validation.folds").inner_text()
    assert folds.get_attribute("aria-invalid") == "true"
    assert page.locator('[data-field="validation.folds"]').is_visible()
    assert "dotted path" in page.locator(".grid-row").first.locator(".field-error").inner_text()
    assert page.locator(".form-errors li").count() == 2
    assert page.get_by_label("Dev split").is_hidden()  # folds make each fold the dev split

    # a fault of the base job: next to the job field it names
    folds.fill("")
    path.fill("optimizer.lr")
    values.fill("-1, 0.1")
    page.get_by_label("Epochs").fill("0")
    start.click()
    field_error(page, "base.epochs").wait_for()
    assert page.locator('[data-field="epochs"] .field-error').count() == 1
    assert page.get_by_label("Epochs").get_attribute("aria-invalid") == "true"

    # a grid value that makes an invalid child: on that grid row, with the point at fault
    page.get_by_label("Epochs").fill("5")
    start.click()
    field_error(page, "grid.optimizer.lr").wait_for()
    assert "(at {'optimizer.lr': -1}" in page.locator(".grid-row").first.locator(".field-error").inner_text()

    # a TPE search: a log range through 0 on that part of its row, trials on the trials field
    page.get_by_label("Method").select_option("tpe")
    assert page.locator(".grid-row").first.is_hidden() and page.locator(".space-row").first.is_visible()
    low = page.locator(".space-row .row-low").first
    low.fill("0")
    page.get_by_label("Trials").fill("0")
    start.click()
    field_error(page, "space.optimizer.lr.low").wait_for()
    assert "log range needs low > 0" in page.locator(".space-row .cell-low").first.locator(".field-error").inner_text()
    assert low.get_attribute("aria-invalid") == "true"
    assert field_error(page, "search.trials").is_visible()
    assert page.get_by_label("Trials").get_attribute("aria-invalid") == "true"

    # a search cannot be cross-validated: said next to the folds field
    low.fill("0.0001")
    page.get_by_label("Trials").fill("4")
    folds.fill("3")
    start.click()
    field_error(page, "validation").wait_for()
    assert "cross-validate" in page.locator('[data-field="validation.folds"] .field-error').inner_text()
    assert "/sweeps/new" in page.url
    assert len(stack.api.get("/v1/sweeps?limit=500").get_json()["sweeps"]) == before


def test_cross_validation_candidates_and_a_searchs_trials(page, stack):
    dataset = upload(stack.api, noisy_cubic(200, seed=3), "name=cv-cubic")
    base = {
        "model": {"type": "mlp", "hidden": [8], "activation": "tanh"},
        "optimizer": {"type": "adam", "batch_size": 32},
        "epochs": 15,
        "tolerance": 0,
    }
    grid = {"optimizer.lr": [0.003, 0.03, 0.3]}
    cv = stack.api.post("/v1/sweeps", json={"dataset_id": dataset, "base": base, "grid": grid, "validation": {"folds": 3}})
    assert cv.status_code == 202, cv.get_data(as_text=True)
    search = stack.api.post("/v1/sweeps", json={
        "dataset_id": dataset, "base": {**base, "split": {"dev": 0.3}},
        "search": {"method": "tpe", "trials": 6, "parallel": 2, "seed": 0, "pruner": "median"},
        "space": {"optimizer.lr": {"low": 1e-4, "high": 0.3, "log": True}, "model.hidden": {"choices": [[4], [16]]}},
    })
    assert search.status_code == 202, search.get_data(as_text=True)
    cv_sweep = wait_sweep(stack.api, cv.get_json()["id"])
    searched = wait_sweep(stack.api, search.get_json()["id"])
    signed_in(page, stack.key)

    page.goto(f"/#/sweeps/{cv_sweep['id']}")
    rows = page.locator("#candidates-table tbody tr")
    rows.first.wait_for()
    assert page.locator("#sweep-kind").inner_text() == "grid · 3-fold cross-validation"
    candidates = cv_sweep["candidates"]
    assert rows.count() == len(candidates) == 3
    for i, c in enumerate(candidates):  # in the API's order, with its numbers exactly
        assert float(rows.nth(i).get_attribute("data-mean")) == c["mean_dev_loss"]
        assert float(rows.nth(i).get_attribute("data-std")) == c["std_dev_loss"]
        assert rows.nth(i).locator("td").nth(3).inner_text() == "3/3"
        assert rows.nth(i).locator("a").count() == 3  # a link per fold's job
    assert "lr = " in page.locator("#best-overrides").inner_text()
    # the validation curve: each candidate's mean dev cost over its folds against lr, ± std as bars
    page.locator('#validation-curve[data-key="optimizer.lr"][data-points="3"]').wait_for()
    dev = points(page, "#validation-curve", "dev")
    by_lr = sorted(candidates, key=lambda c: c["overrides"]["optimizer.lr"])
    assert [x for x, _ in dev] == [c["overrides"]["optimizer.lr"] for c in by_lr]
    assert [y for _, y in dev] == pytest.approx([c["mean_dev_loss"] for c in by_lr], rel=1e-12)
    assert page.locator('#validation-curve g.series[data-series="dev"] path.error-bar').count() == 3
    assert page.get_by_label("Log x").is_checked()  # lr spans two decades

    page.goto(f"/#/sweeps/{searched['id']}")
    facts = page.locator("#search-facts")
    facts.wait_for()
    trials = searched["trials"]
    assert facts.locator('[data-key="started"]').inner_text() == f"{trials['started']} of {trials['total']}" == "6 of 6"
    assert facts.locator('[data-key="pruned"]').inner_text() == str(trials["pruned"])
    assert facts.locator('[data-key="epochs_saved"]').inner_text() == str(searched["epochs_saved"])
    page.locator("#sweep-table tbody tr").nth(5).wait_for()
    assert page.locator("#sweep-table .badge.outcome", has_text="pruned").count() == trials["pruned"]
    finished = [j for j in searched["jobs"] if j["status"] == "succeeded" and j.get("outcome") != "pruned"]
    page.locator(f'#validation-curve[data-points="{len(finished)}"]').wait_for()
    assert page.locator("#validation-key option").all_inner_texts() == ["optimizer.lr"]  # hidden sizes are no number
    drawn = sorted(points(page, "#validation-curve", "dev"))
    assert drawn == sorted((j["overrides"]["optimizer.lr"], j["dev_loss"]) for j in finished)


def test_the_sweeps_list_pages_newest_first(page, stack):
    dataset = upload(stack.api, WORKED, "name=course")
    base = {"model": {"bias": False}, "standardize": False, "optimizer": {"type": "gd"}, "epochs": 5}
    for lr in (0.001, 0.01, 0.1):
        r = stack.api.post("/v1/sweeps", json={"dataset_id": dataset, "base": base, "grid": {"optimizer.lr": [lr]}})
        assert r.status_code == 202
    first = stack.api.get("/v1/sweeps?limit=2").get_json()
    second = stack.api.get(f"/v1/sweeps?limit=2&cursor={first['next_cursor']}").get_json()
    signed_in(page, stack.key)
    page.goto("/#/jobs")
    page.get_by_role("link", name="Sweeps", exact=True).click()
    page.get_by_role("heading", name="Sweeps").wait_for()
    assert page.get_by_role("link", name="Sweeps", exact=True).get_attribute("aria-current") == "page"
    page.goto("/#/sweeps?limit=2")
    shown = page.locator("#sweeps-table tbody tr")

    def ids() -> list[str]:
        return shown.evaluate_all("rows => rows.map(r => r.dataset.sweep)")

    page.wait_for_function("() => document.querySelectorAll('#sweeps-table tbody tr').length === 2")
    assert ids() == [s["id"] for s in first["sweeps"]]
    assert shown.first.locator("td.kind").inner_text() == "grid"
    newest = page.locator(f'#sweeps-table tr[data-sweep="{first["sweeps"][0]["id"]}"]')
    page.get_by_role("link", name="Older sweeps →").click()
    newest.wait_for(state="detached")
    page.locator("#sweeps-table tbody tr").first.wait_for()
    assert ids() == [s["id"] for s in second["sweeps"]]
    page.get_by_role("link", name="← Newest").click()
    newest.wait_for()
    assert ids() == [s["id"] for s in first["sweeps"]]


def test_compare_jobs_picked_in_the_list_read_metrics_and_download_a_history(page, stack):
    dataset = upload(stack.api, noisy_classes(300), "name=classes&target=label")
    common = {"dataset_id": dataset, "loss": "bce", "split": {"dev": 0.2, "test": 0.2}, "tolerance": 0}
    a = submit(stack.api, **common, optimizer={"type": "minibatch", "lr": 0.1, "batch_size": 16}, epochs=30)
    b = submit(stack.api, **common, optimizer={"type": "sgd", "lr": 0.01}, epochs=8)
    ended = [wait_job(stack.api, job["id"]) for job in (a, b)]
    assert [job["status"] for job in ended] == ["succeeded", "succeeded"]
    histories = [full_history(stack.api, job["id"]) for job in (a, b)]
    signed_in(page, stack.key)

    page.goto("/#/jobs")
    for job in (a, b):
        page.locator(f'tr[data-job="{job["id"]}"] input.pick').check()
    page.get_by_role("button", name="Compare 2 jobs").click()
    page.wait_for_url("**/#/compare?jobs=*")
    assert page.url.endswith(f"{a['id']},{b['id']}")
    page.locator('#compare-figure[data-complete="true"]').wait_for(timeout=60_000)
    figure = page.locator("#compare-figure")
    assert figure.get_attribute("data-curves") == "2"
    counts = [f"{len(h['train']['step'])}/{len(h['dev']['step'])}" for h in histories]
    assert figure.get_attribute("data-points") == ",".join(counts)
    assert page.locator("#compare-curve").input_value() == "dev"  # both have a dev split: compared by it, per epoch
    for colour in ((0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)):  # chart.js PALETTE[0], [1]: one curve each
        seen_pixels(page, COUNT_COLOUR, ["#compare-figure canvas", colour, 12], 100)
    page.locator("#compare-x").select_option("step")
    page.locator("#compare-curve").select_option("smoothed")
    seen_pixels(page, COUNT_COLOUR, ["#compare-figure canvas", (0xE6, 0x9F, 0x00), 12], 100)

    # the job page: each split's metrics as the API has them, and the dev confusion matrix
    page.get_by_role("link", name=a["id"][:12] + "…").click()
    page.locator("#split-metrics").wait_for()
    metrics = get_job(stack.api, a["id"])["result"]["metrics"]
    for split in ("train", "dev", "test"):
        for name, value in metrics[split].items():
            if name == "confusion_matrix":
                continue
            cell = page.locator(f'#split-metrics tr[data-metric="{name}"] td[data-split="{split}"]')
            assert float(cell.inner_text()) == pytest.approx(value, rel=1e-3), (split, name)
    dev_matrix = page.locator('details.confusion[data-split="dev"]')
    dev_matrix.locator("summary").click()
    cells = dev_matrix.locator("tbody td").all_inner_texts()
    assert [int(c) for c in cells] == [n for row in metrics["dev"]["confusion_matrix"] for n in row]

    # its history as CSV, every point exactly as the API has it
    name, text = downloaded_text(page, lambda: page.locator(".card-head .download-history").click())
    assert name == f"{a['id']}-history.csv"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["series", "step", "epoch", "loss", "smoothed"]
    train = [r for r in rows[1:] if r[0] == "train"]
    dev = [r for r in rows[1:] if r[0] == "dev"]
    history = histories[0]
    assert [int(r[1]) for r in train] == history["train"]["step"]
    assert [int(r[2]) for r in train] == history["train"]["epoch"]
    assert [float(r[3]) for r in train] == history["train"]["loss"]
    assert [float(r[4]) for r in train] == history["train"]["smoothed"]
    assert [(int(r[1]), int(r[2]), float(r[3])) for r in dev] == list(
        zip(history["dev"]["step"], history["dev"]["epoch"], history["dev"]["loss"], strict=True)
    )
    steps = [int(r[1]) for r in rows[1:]]
    assert steps == sorted(steps) and len(rows) == 1 + len(train) + len(dev)
