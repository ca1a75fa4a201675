"""Structured logs carry the job and tenant ids they are about."""

from __future__ import annotations

import json
import logging

from descent.logs import JsonFormatter, log_context


def test_json_lines_carry_context_ids():
    record = logging.LogRecord("descent.worker", logging.INFO, __file__, 1, "trained %s", ("it",), None)
    with log_context(job_id="job_1", tenant="alice"):
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "trained it" and line["job_id"] == "job_1" and line["tenant"] == "alice"
    assert line["level"] == "INFO" and line["time"].endswith("Z")
    outside = json.loads(JsonFormatter().format(record))
    assert "job_id" not in outside


def test_api_key_never_appears_in_logs(settings, caplog):
    from dataclasses import replace

    from service import create_app

    caplog.set_level(logging.DEBUG)
    app = create_app({"SETTINGS": replace(settings, api_keys="alice:very-secret-key-123")})
    app.test_client().get("/v1/datasets", headers={"Authorization": "Bearer very-secret-key-123"})
    app.test_client().get("/v1/datasets", headers={"Authorization": "Bearer wrong-key-456"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "very-secret-key-123" not in text and "wrong-key-456" not in text
    assert "very-secret" not in repr(replace(settings, api_keys="alice:very-secret-key-123"))
