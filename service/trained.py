"""What a succeeded job gives back: predictions (`/predict`) and its parameters (`/model`).

Both use `descent.predict`, numpy only, on the parameters the result reports (standardization
folded in), so a client that applies the exported parameters itself gets the same numbers.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from flask import Blueprint, Response, jsonify, request
from safetensors.numpy import save as save_safetensors

from descent.predict import n_features, predict
from descent.preprocess import Pipeline
from descent.preprocess.encoders import NumberEncoder
from descent.preprocess.pipeline import Input
from descent.settings import Settings
from descent.store import JobStatus

from . import context
from .openapi import parts as apidoc
from .predict_input import answer, as_csv, encoded_rows
from .problems import invalid

bp = Blueprint("trained", __name__, url_prefix="/v1/jobs")

OUTPUTS = {"bce": "sigmoid", "cross_entropy": "softmax"}
"""How a model's raw output becomes a prediction, by loss (identity otherwise)."""


@bp.post("/<job_id>/predict")
def predict_rows(job_id: str) -> Response:
    body = context.json_body()
    job, _ = _succeeded(job_id)
    x, warnings = encoded_rows(body, job)
    config = job["config"]
    out = predict(job["result"]["params"], config["model"], config["loss"], x)
    doc = answer(out, job["result"], warnings)
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        return Response(as_csv(doc), mimetype="text/csv")
    return jsonify(doc)


@apidoc.documents("/v1/jobs/{job_id}/predict", "post")
def _predict_rows_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "predict",
        "summary": "Predict with a succeeded job's model",
        "description": "Rows by column name (objects, or lists with `columns`), every row of a stored "
        "dataset (`dataset_id`), or `x`: numbers in `feature_names` order. Missing keys and nulls are "
        "missing values; a category not seen in training is listed in `warnings`. With `Accept: "
        "text/csv` the answer is CSV: the prediction, then one probability column per class.",
        "requestBody": apidoc.request_body(apidoc.ref("PredictRequest"), {"x": [[4.0], [5.0]]}),
        "responses": apidoc.responses(
            {
                "200": {
                    "description": "one prediction per row",
                    "content": {
                        "application/json": {"schema": apidoc.ref("Prediction")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                }
            },
            {
                "400": "invalid rows, a missing column, or a wrong number of features",
                "404": "unknown, or not yours",
                "409": "the job has not succeeded",
                "413": apidoc.too_large(settings),
                "415": "not application/json",
            },
        ),
    }


@bp.get("/<job_id>/model")
def export(job_id: str) -> Response:
    job, dataset = _succeeded(job_id)
    doc = _model_document(job, dataset)
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return jsonify(doc)
    if fmt == "onnx":
        return Response(
            _onnx(job, doc),
            mimetype="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{job_id}.onnx"'},
        )
    if fmt != "safetensors":
        raise invalid(
            "format must be json, safetensors or onnx",
            [{"field": "format", "message": "must be json, safetensors or onnx"}],
        )
    tensors = _tensors(doc["params"])
    metadata = {k: json.dumps(v) for k, v in doc.items() if k != "params"}
    payload = _canonical_header(save_safetensors(tensors, metadata=metadata))
    return Response(
        payload,
        mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{job_id}.safetensors"'},
    )


@apidoc.documents("/v1/jobs/{job_id}/model", "get")
def _export_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "exportModel",
        "summary": "The trained parameters (standardization folded in)",
        "parameters": [
            apidoc.param(
                "format",
                "query",
                {"type": "string", "enum": ["json", "safetensors", "onnx"]},
                "json (default), a safetensors file, or onnx: the whole pipeline (raw columns in, "
                "prediction out) as one ONNX model",
            )
        ],
        "responses": apidoc.responses(
            {
                "200": {
                    "description": "the model",
                    "content": {
                        "application/json": {"schema": apidoc.ref("ModelExport")},
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    },
                }
            },
            {
                "400": "unknown `format`",
                "404": "unknown, or not yours",
                "409": "the job has not succeeded",
            },
        ),
    }


def _succeeded(job_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    job = context.store().jobs.get(context.tenant(), job_id)
    if job is None:
        raise context.not_found("job", job_id)
    if job["status"] != JobStatus.SUCCEEDED:
        raise context.conflict(f"Job {job_id!r} is {job['status']}; only a succeeded job has a model.")
    dataset = context.store().datasets.get(context.tenant(), job["dataset_id"])
    return job, dataset


def _model_document(job: dict[str, Any], dataset: dict[str, Any] | None) -> dict[str, Any]:
    """The model, and the preprocessing that makes its features from raw columns: the job's fitted
    pipeline (descent.preprocess.Pipeline.from_json reads it back) and a classifier's classes."""
    config = job["config"]
    fitted = (config.get("features") or {}).get("fitted")
    names = fitted["feature_names"] if fitted else (dataset["feature_names"] if dataset else None)
    doc = {
        "job_id": job["id"],
        "model": config["model"],
        "loss": config["loss"],
        "output": OUTPUTS.get(config["loss"], "identity"),
        "feature_names": names,
        "target_name": dataset["target_name"] if dataset else None,
        "standardization": "folded into params: apply them to the features `preprocessing` makes",
        "params": job["result"]["params"],
    }
    if fitted:
        doc["preprocessing"] = fitted
    if job["result"].get("classes") is not None:
        doc["classes"] = job["result"]["classes"]
    return doc


def _onnx(job: dict[str, Any], doc: dict[str, Any]) -> bytes:
    """The job's preprocessing, model and output as one ONNX model (descent/onnx_export.py); a job
    trained before preprocessing existed reads its features as plain numbers."""
    from descent.onnx_export import export_onnx  # onnx is loaded when first asked for

    fitted = doc.get("preprocessing")
    if fitted:
        pipeline = Pipeline.from_json(fitted)
    else:
        names = doc["feature_names"] or [f"x{j + 1}" for j in range(n_features(doc["params"], doc["model"]))]
        pipeline = Pipeline(tuple(Input(n, "number", NumberEncoder(n, None, False)) for n in names), "mean")
    return export_onnx(pipeline, doc["params"], doc["model"], doc["loss"], doc.get("classes"), job["id"])


def _tensors(params: Any) -> dict[str, np.ndarray]:
    """Linear: `weights`, `bias`; MLP: `layers.{i}.weight`, `layers.{i}.bias` (float64)."""
    if isinstance(params, list):
        out: dict[str, np.ndarray] = {}
        for i, layer in enumerate(params):
            out[f"layers.{i}.weight"] = np.asarray(layer["weight"], dtype=np.float64)
            out[f"layers.{i}.bias"] = np.asarray(layer["bias"], dtype=np.float64)
        return out
    return {
        "weights": np.asarray(params["weights"], dtype=np.float64),
        "bias": np.atleast_1d(np.asarray(params["bias"], dtype=np.float64)),
    }


def _canonical_header(payload: bytes) -> bytes:
    """A safetensors file with its JSON header's keys sorted: the same model, the same bytes.

    Why: safetensors writes the metadata from a hash map whose order changes from call to call, so
    two downloads of one model differed (20 exports of one model in one process: 20 different
    files) and a checksum of an export meant nothing. The header keeps its length (the same keys
    and values; safetensors pads it with spaces, as here) and the tensors' bytes are untouched.
    """
    size = int.from_bytes(payload[:8], "little")
    header = json.loads(payload[8 : 8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if len(text) > size:  # not expected (the same content); the file as safetensors wrote it
        return payload
    return payload[:8] + text + b" " * (size - len(text)) + payload[8 + size :]
