"""Fixtures of the validation property tests (test_validation_defaults.py, test_validation_rejections.py).

`api` is the real app on a queue of its own with no worker, so accepted jobs stay queued and nothing
trains (test_openapi_conformance.py has its own `api`, which overrides this one there).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from service import create_app
from tests.support.job_requests import ROWS


@pytest.fixture(scope="module")
def api(settings):
    app = create_app(
        {
            "SETTINGS": replace(
                settings, queue_name=settings.queue_name + "-properties", max_open_jobs=10**9
            ),
            "TESTING": True,
        }
    )
    return app.test_client()


@pytest.fixture(scope="module")
def dataset_id(api) -> str:
    rows = [[i, (i * 7) % 11, (i % 5) / 2] for i in range(ROWS)]
    body = {"x": rows, "y": [float(i % 2) for i in range(ROWS)]}
    r = api.post("/v1/datasets", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]
