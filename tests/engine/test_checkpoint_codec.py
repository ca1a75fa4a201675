"""The checkpoint's bytes (worker/engine/checkpoint.py): the documented safetensors layout with a
JSON header, a lossless round trip, and a ValueError naming what is wrong for anything malformed or
forged — the bytes come from Redis and are not trusted."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import numpy as np
import pytest
import safetensors.numpy

from tests.support.engine import config, linear_data
from worker.engine import (
    ListReporter,
    RunState,
    Signal,
    Suspended,
    decode_checkpoint,
    encode_checkpoint,
    train,
)
from worker.engine.checkpoint import METADATA_KEY

ADAM = config(
    {"type": "adam", "lr": 0.05, "batch_size": 8},
    epochs=8,
    tolerance=0.0,
    split={"dev": 0.2, "test": 0.1},
    max_history_points=20,
)
"""35 training rows in batches of 8: 5 updates per epoch, windows of 2, a dev split."""


def _saved(cfg: Any, tick: int, rows: int = 50) -> bytes:
    """The checkpoint a run of `cfg` saves when suspended at `tick`."""
    reporter = ListReporter(signals={tick: Signal.SUSPEND})
    with pytest.raises(Suspended):
        train(*linear_data(rows, [1.0, -1.0, 0.5], 0.2, noise=0.4), cfg, reporter)
    (saved,) = reporter.checkpoints
    return saved.data


@pytest.fixture(scope="module")
def sample() -> bytes:
    """An adam checkpoint (optimizer state, dev tracker) taken mid-epoch: update 9, 5 an epoch."""
    return _saved(ADAM, 9)


def _header(data: bytes) -> dict[str, Any]:
    """The checkpoint JSON, read as the module docstring documents it (not through the codec)."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(json.loads(data[8 : 8 + size])["__metadata__"][METADATA_KEY])


def test_the_bytes_are_safetensors_with_the_documented_layout(sample: bytes) -> None:
    tensors = safetensors.numpy.load(sample)
    names = ["linear.weight", "linear.bias"]
    assert sorted(tensors) == sorted(
        [f"model.{n}" for n in names]
        + [f"optimizer.{i}.{key}" for i in (0, 1) for key in ("step", "exp_avg", "exp_avg_sq")]
        + ["shuffle.state", "scaling.x_center", "scaling.x_scale"]
    )
    assert tensors["optimizer.0.step"].shape == () and float(tensors["optimizer.0.step"]) == 9
    assert tensors["shuffle.state"].dtype == np.uint8 and tensors["scaling.x_center"].dtype == np.float64
    header = _header(sample)
    assert (header["format"], header["version"]) == ("descent.checkpoint", 2)
    meta = header["meta"]
    assert meta["parameters"] == names
    assert (meta["step"], meta["epoch"], meta["batch"], meta["steps_per_epoch"]) == (9, 1, 4, 5)
    assert meta["history"]["count"] == 9 % meta["log_every"]
    assert (header["train_points"], header["dev_points"]) == (9 // meta["log_every"], 1)
    assert meta["tracker"]["best_epoch"] == 1
    assert meta["schedule"] == {"epoch": 1, "lr": 0.05, "best": "inf", "bad_epochs": 0}  # no schedule
    assert json.loads(json.dumps(meta, allow_nan=False)) == meta  # plain JSON


def test_early_stopping_keeps_its_best_parameters() -> None:
    cfg = config(
        {"type": "minibatch", "lr": 0.05, "batch_size": 8},
        epochs=8,
        split={"dev": 0.2},
        early_stopping={"patience": 5},
    )
    tensors = safetensors.numpy.load(_saved(cfg, 12))
    assert {k for k in tensors if k.startswith(("best.", "optimizer."))} == {
        "best.linear.weight",
        "best.linear.bias",
    }


def test_a_round_trip_keeps_every_field(sample: bytes) -> None:
    state = decode_checkpoint(sample)
    again = decode_checkpoint(encode_checkpoint(state))
    arrays = ("model", "optimizer", "best", "shuffle", "x_center", "x_scale")
    for f in dataclasses.fields(RunState):
        if f.name not in arrays:
            assert getattr(again, f.name) == getattr(state, f.name), f.name
    assert encode_checkpoint(again) == encode_checkpoint(state) == sample


def test_non_finite_numbers_travel_as_strings(sample: bytes) -> None:
    # a diverging run's costs may be infinite; JSON has no such numbers
    state = dataclasses.replace(decode_checkpoint(sample), epoch_cost_sum=float("inf"))
    state.metrics["train_loss"] = float("nan")
    data = encode_checkpoint(state)
    assert _header(data)["meta"]["epoch_cost_sum"] == "inf"
    back = decode_checkpoint(data)
    assert back.epoch_cost_sum == float("inf") and np.isnan(back.metrics["train_loss"])


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"\x08" + b"\x00" * 7 + b"{}", bytes(range(256)) * 8, "a string", None],
    ids=["empty", "garbage", "empty-header", "random", "str", "none"],
)
def test_decode_rejects_garbage(data: Any) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        decode_checkpoint(data)


def test_decode_rejects_truncated_bytes(sample: bytes) -> None:
    for cut in (1, 7, 8, 100, len(sample) // 2, len(sample) - 1):
        with pytest.raises(ValueError, match="checkpoint"):
            decode_checkpoint(sample[:cut])
    with pytest.raises(ValueError, match="checkpoint"):
        decode_checkpoint(sample + b"\x00")


def _rewrite(data: bytes, change_meta=None, change_tensors=None, header_text: str | None = None) -> bytes:
    """The checkpoint's bytes with its header JSON or its tensors changed (a forged checkpoint)."""
    header = copy.deepcopy(_header(data))
    if change_meta is not None:
        change_meta(header)
    tensors = dict(safetensors.numpy.load(data))
    if change_tensors is not None:
        change_tensors(tensors)
    text = header_text if header_text is not None else json.dumps(header)
    return safetensors.numpy.save(tensors, metadata={METADATA_KEY: text})


_DELETE = object()


def _set(path: str, value: Any):
    def change(header: dict) -> None:
        *parents, last = path.split(".")
        node = header
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return change


def test_an_unchanged_rewrite_decodes(sample: bytes) -> None:
    # the forgeries below differ from their source in the one change each makes
    assert encode_checkpoint(decode_checkpoint(_rewrite(sample))) == sample


@pytest.mark.parametrize(
    "change",
    [
        _set("version", 1),  # before `schedule`
        _set("version", 3),
        _set("format", "something.else"),
        _set("train_points", -1),
        _set("train_points", 1.5),
        _set("dev_points", True),
        _set("meta", []),
        _set("meta.step", _DELETE),
        _set("meta.step", "9"),
        _set("meta.step", 10),  # no longer epoch · steps_per_epoch + batch
        _set("meta.batch", 7),
        _set("meta.lr", 0),
        _set("meta.lr", "inf"),
        _set("meta.log_every", 0),
        _set("meta.history.count", 5),
        _set("meta.history", None),
        _set("meta.history.smoothed", None),
        _set("meta.tracker", None),  # it has dev points
        _set("meta.tracker.best_epoch", 7),
        _set("meta.first_cost", None),
        _set("meta.elapsed_seconds", -1.0),
        _set("meta.parameters", ["linear.weight"]),
        _set("meta.parameters", ["linear.weight", "linear.weight"]),
        _set("meta.data.features", 4),
        _set("meta.metrics", [1, 2]),
        _set("meta.scaling.y_scale", 0.0),
        _set("meta.schedule", _DELETE),
        _set("meta.schedule.epoch", 0),  # not the completed epochs
        _set("meta.schedule.lr", -0.1),
        _set("meta.schedule.lr", "nan"),
        _set("meta.schedule.best", None),
        _set("meta.schedule.bad_epochs", 2),  # more than the completed epochs
    ],
)
def test_decode_rejects_a_forged_header(sample: bytes, change: Any) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        decode_checkpoint(_rewrite(sample, change_meta=change))


def test_decode_rejects_non_json_metadata(sample: bytes) -> None:
    for text in ["{not json", '{"format": "descent.checkpoint", "version": NaN}', "[]", '"x"']:
        with pytest.raises(ValueError, match="checkpoint"):
            decode_checkpoint(_rewrite(sample, header_text=text))
    # a valid safetensors file that is not a checkpoint
    with pytest.raises(ValueError, match="checkpoint"):
        decode_checkpoint(safetensors.numpy.save({"w": np.zeros(3, np.float32)}))


def _tensor(name: str, value: Any):
    def change(tensors: dict) -> None:
        if value is _DELETE:
            del tensors[name]
        else:
            tensors[name] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        _tensor("model.linear.weight", _DELETE),
        _tensor("model.linear.weight", np.zeros((1, 4), np.float32)),  # not the optimizer's shape
        _tensor("model.linear.weight", np.zeros((1, 3), np.float64)),
        _tensor("optimizer.0.exp_avg", np.zeros((3, 1), np.float32)),
        _tensor("optimizer.0.step", np.zeros(1, np.float32)),
        _tensor("optimizer.2.exp_avg", np.zeros(1, np.float32)),
        _tensor("optimizer.0.velocity", np.zeros((1, 3), np.float32)),
        _tensor("optimizer.00.exp_avg", np.zeros((1, 3), np.float32)),
        _tensor("best.linear.weight", np.zeros((1, 3), np.float32)),  # best without its bias
        _tensor("shuffle.state", _DELETE),
        _tensor("shuffle.state", np.zeros(16, np.uint8)),
        _tensor("scaling.x_center", np.zeros(2)),
        _tensor("extra", np.zeros(1, np.float32)),
    ],
)
def test_decode_rejects_forged_tensors(sample: bytes, change: Any) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        decode_checkpoint(_rewrite(sample, change_tensors=change))
