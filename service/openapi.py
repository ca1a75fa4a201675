"""The OpenAPI 3.1 document, built from the pydantic models that validate and describe the API.

Paths are listed here once, with references to those models, so the document cannot drift from the
validation: changing a field in `schemas` changes both.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import schemas

REF = "#/components/schemas/{model}"
MODELS: list[type[BaseModel]] = [
    schemas.JobRequest,
    schemas.JobResource,
    schemas.JobList,
    schemas.DatasetResource,
    schemas.DatasetList,
    schemas.DatasetJson,
    schemas.History,
    schemas.Surface,
    schemas.ProblemDoc,
    schemas.Health,
    schemas.PredictRequest,
    schemas.Prediction,
    schemas.ModelExport,
    schemas.SweepRequest,
    schemas.SweepResource,
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref(schemas.ProblemDoc)}},
    }


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False):
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def _id(name: str) -> dict[str, Any]:
    return _param(name, "path", {"type": "string"}, f"the {name.replace('_', ' ')}", required=True)


PAGING = [
    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "page size"),
    _param("cursor", "query", {"type": "string"}, "`next_cursor` of the previous page"),
]
ERRORS = {
    "400": _problem("invalid input: `errors` names every bad field"),
    "503": _problem("Redis is unreachable; retry"),
}


def _paths() -> dict[str, Any]:
    csv_params = [
        _param("target", "query", {"type": "string"}, "target column: name or 0-based index (default: last)"),
        _param("name", "query", {"type": "string", "maxLength": 200}, "a name for the dataset"),
    ]
    return {
        "/v1/datasets": {
            "post": {
                "summary": "Upload a dataset",
                "parameters": csv_params,
                "requestBody": {
                    "required": True,
                    "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "target": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                                "required": ["file"],
                            }
                        },
                        "application/json": {"schema": _ref(schemas.DatasetJson)},
                    },
                },
                "responses": {
                    "201": _json(schemas.DatasetResource, "stored"),
                    **ERRORS,
                    "413": _problem("over a size limit"),
                    "415": _problem("unsupported content type"),
                },
            },
            "get": {
                "summary": "List datasets, newest first",
                "parameters": PAGING,
                "responses": {"200": _json(schemas.DatasetList, "a page"), **ERRORS},
            },
        },
        "/v1/datasets/{dataset_id}": {
            "parameters": [_id("dataset_id")],
            "get": {
                "summary": "A dataset's description",
                "responses": {
                    "200": _json(schemas.DatasetResource, "the dataset"),
                    "404": _problem("unknown"),
                },
            },
            "delete": {
                "summary": "Delete a dataset",
                "responses": {
                    "204": {"description": "deleted"},
                    "404": _problem("unknown"),
                    "409": _problem("a queued or running job uses it"),
                },
            },
        },
        "/v1/jobs": {
            "post": {
                "summary": "Submit a training job",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(schemas.JobRequest)}},
                },
                "responses": {
                    "202": _json(schemas.JobResource, "queued"),
                    **ERRORS,
                    "404": _problem("unknown dataset"),
                    "415": _problem("not JSON"),
                },
            },
            "get": {
                "summary": "List jobs, newest first",
                "parameters": [
                    _param(
                        "status",
                        "query",
                        {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
                        "only jobs with this status",
                    ),
                    _param("dataset_id", "query", {"type": "string"}, "only jobs on this dataset"),
                    _param("sweep_id", "query", {"type": "string"}, "only children of this sweep"),
                    *PAGING,
                ],
                "responses": {"200": _json(schemas.JobList, "a page"), **ERRORS},
            },
        },
        "/v1/jobs/{job_id}": {
            "parameters": [_id("job_id")],
            "get": {
                "summary": "A job: status, progress, metrics, result or error",
                "responses": {"200": _json(schemas.JobResource, "the job"), "404": _problem("unknown")},
            },
            "delete": {
                "summary": "Delete an ended job and its history",
                "responses": {
                    "204": {"description": "deleted"},
                    "404": _problem("unknown"),
                    "409": _problem("still queued or running"),
                },
            },
        },
        "/v1/jobs/{job_id}/history": {
            "parameters": [_id("job_id")],
            "get": {
                "summary": "Loss history, incrementally",
                "parameters": [
                    _param(
                        "after", "query", {"type": "integer", "minimum": 0}, "return points with step > after"
                    ),
                    _param(
                        "limit", "query", {"type": "integer", "minimum": 1}, "at most this many train points"
                    ),
                ],
                "responses": {
                    "200": _json(schemas.History, "a page"),
                    "400": ERRORS["400"],
                    "404": _problem("unknown"),
                },
            },
        },
        "/v1/jobs/{job_id}/surface": {
            "parameters": [_id("job_id")],
            "get": {
                "summary": "Cost at every grid point of an exhaustive search",
                "responses": {
                    "200": _json(schemas.Surface, "the surface"),
                    "404": _problem("unknown, or not an exhaustive job"),
                    "409": _problem("not finished"),
                },
            },
        },
        "/v1/jobs/{job_id}/cancel": {
            "parameters": [_id("job_id")],
            "post": {
                "summary": "Cancel a queued or running job",
                "responses": {
                    "202": _json(schemas.JobResource, "cancelled, or stopping within a second"),
                    "404": _problem("unknown"),
                    "409": _problem("already ended"),
                },
            },
        },
        "/v1/jobs/{job_id}/predict": {
            "parameters": [_id("job_id")],
            "post": {
                "summary": "Predict with a succeeded job's model",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(schemas.PredictRequest)}},
                },
                "responses": {
                    "200": _json(schemas.Prediction, "one prediction per row"),
                    "400": ERRORS["400"],
                    "404": _problem("unknown"),
                    "409": _problem("the job has not succeeded"),
                },
            },
        },
        "/v1/jobs/{job_id}/model": {
            "parameters": [_id("job_id")],
            "get": {
                "summary": "The trained parameters (standardization folded in)",
                "parameters": [
                    _param(
                        "format",
                        "query",
                        {"type": "string", "enum": ["json", "safetensors"]},
                        "json (default)",
                    )
                ],
                "responses": {
                    "200": {
                        "description": "the model",
                        "content": {
                            "application/json": {"schema": _ref(schemas.ModelExport)},
                            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "400": ERRORS["400"],
                    "404": _problem("unknown"),
                    "409": _problem("the job has not succeeded"),
                },
            },
        },
        "/v1/sweeps": {
            "post": {
                "summary": "Start a sweep: one job per grid point",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(schemas.SweepRequest)}},
                },
                "responses": {
                    "202": _json(schemas.SweepResource, "the children are queued"),
                    **ERRORS,
                    "404": _problem("unknown dataset"),
                    "415": _problem("not JSON"),
                },
            }
        },
        "/v1/sweeps/{sweep_id}": {
            "parameters": [_id("sweep_id")],
            "get": {
                "summary": "A sweep with its children ranked",
                "responses": {"200": _json(schemas.SweepResource, "the sweep"), "404": _problem("unknown")},
            },
        },
        "/v1/sweeps/{sweep_id}/cancel": {
            "parameters": [_id("sweep_id")],
            "post": {
                "summary": "Cancel every child that has not ended",
                "responses": {
                    "202": _json(schemas.SweepResource, "cancelling"),
                    "404": _problem("unknown"),
                    "409": _problem("nothing left to cancel"),
                },
            },
        },
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _json(schemas.Health, "alive")}}},
        "/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole document."""
    _, top = models_json_schema([(m, "validation") for m in MODELS], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "descent",
            "version": "1",
            "description": "Training as a service: upload a dataset, submit a job, watch its loss.",
        },
        "paths": _paths(),
        "components": {"schemas": top.get("$defs", {})},
    }
