"""`TrainOutput.to_result()`: the API's `result` object, plain JSON."""

from __future__ import annotations

import json

import numpy as np

from tests.support.engine import config, linear_data, run


def test_to_result_is_plain_json() -> None:
    x, y = linear_data(30, [1.0, 2.0], 0.5, noise=0.1)
    out, _ = run(x, y, config({"type": "gd", "lr": 0.1}, epochs=5, split={"dev": 0.2, "test": 0.2}))
    result = out.to_result()
    assert set(result) == {
        "outcome", "params", "train_loss", "dev_loss", "test_loss", "r2", "accuracy",
        "dev_r2", "test_r2", "dev_accuracy", "test_accuracy", "epochs_run", "steps", "seconds", "metrics",
    }  # fmt: skip
    assert json.loads(json.dumps(result)) == result
    assert all(type(v) is float for v in result["params"]["weights"])
    assert type(result["params"]["bias"]) is float and type(result["train_loss"]) is float
    assert result["accuracy"] is None and result["outcome"] == "max_epochs"
    assert np.isfinite(result["dev_loss"]) and np.isfinite(result["test_loss"])
    assert np.isfinite(result["dev_r2"]) and np.isfinite(result["test_r2"])
    assert result["dev_accuracy"] is None and result["test_accuracy"] is None
    assert set(result["metrics"]) == {"train", "dev", "test"}
    assert all(
        set(result["metrics"][split]) == {"mse", "rmse", "mae", "r2"} for split in ("train", "dev", "test")
    )
    assert result["metrics"]["dev"]["r2"] == result["dev_r2"]
    assert out.lr == 0.1
