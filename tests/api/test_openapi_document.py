"""/openapi.json states what the API does: its patterns accept exactly what the API accepts.

schemathesis finds mismatches by sampling; these check the patterns the document publishes
against the code that reads the same strings, over many more cases: every cursor the pattern
allows can be resumed from, every CSV the parser accepts matches the CSV pattern (so a request
the document rejects is never one the API would take), and an Idempotency-Key is accepted exactly
when it matches its pattern.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from descent.settings import Settings
from descent.store.paging import CURSOR_PATTERN, BadCursor, decode_cursor, encode_cursor, page
from service import create_app
from service.idempotency import IDEMPOTENCY_KEY_PATTERN, MAX_KEY_LENGTH
from service.openapi import CURSOR_QUERY_PATTERN, openapi_document
from service.sweep_plan import PATH

MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEFAULTS = Settings()


def test_the_document_is_valid_and_states_the_configured_limits():
    small = replace(DEFAULTS, max_epochs=700, max_features=5, max_sweep_children=3, history_page_size=11)
    doc = openapi_document(small)
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["JobRequest"]["properties"]["epochs"]["maximum"] == 700
    assert schemas["DatasetXY"]["properties"]["x"]["items"]["maxItems"] == 5
    assert schemas["SweepGrid"]["properties"]["seed"]["maxItems"] == 3
    history = doc["paths"]["/v1/jobs/{job_id}/history"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("maximum") for p in history}["limit"] == 11
    assert doc["security"] == [{"apiKey": []}, {}]  # open: a key is optional
    assert openapi_document(replace(small, api_keys="a:k"))["security"] == [{"apiKey": []}]


def test_every_v1_operation_documents_its_errors():
    doc = openapi_document(DEFAULTS)
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert "default" in codes, (method, path)
            if path.startswith("/v1/"):
                assert {"401", "503"} <= codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= codes, (method, path)


def test_sweep_grid_keys_are_the_paths_into_a_job_request():
    grid = openapi_document(DEFAULTS)["components"]["schemas"]["SweepGrid"]
    keys = set(grid["properties"])
    assert {"optimizer.lr", "optimizer.type", "model.hidden", "split.dev", "seed", "optimizer.grid.w"} <= keys
    assert all(PATH.match(k) for k in keys) and not any(k.startswith("dataset_id") for k in keys)
    assert grid["additionalProperties"] is False and grid["minProperties"] == 1


# -- cursors ----------------------------------------------------------------------------------------


@MANY
@given(cursor=st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_every_string_the_cursor_pattern_allows_is_a_cursor(cursor):
    score, member = decode_cursor(cursor)
    assert encode_cursor(score, member) == cursor.lstrip("0") or score == 0


@MANY
@given(text=st.text(max_size=30))
def test_a_cursor_is_rejected_exactly_when_it_breaks_the_pattern(text):
    matches = re.fullmatch(CURSOR_PATTERN.strip("^$"), text) is not None
    try:
        decode_cursor(text)
        assert matches
    except BadCursor:
        assert not matches
    assert (re.fullmatch(CURSOR_QUERY_PATTERN.strip("^$"), text) is not None) == (matches or text == "")


@pytest.fixture(scope="module")
def redis_client(app):
    return app.extensions["descent.redis"]


@settings(max_examples=50, deadline=None)
@given(cursor=st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_paging_resumes_from_any_valid_cursor(redis_client, cursor):
    key = "descent:test:paging-any-cursor"
    redis_client.zadd(key, {"ds_a": 1, "ds_b": 2, "ds_c": 10**15})
    items, _ = page(redis_client, key, 10, cursor, lambda ids: ids)
    score, member = decode_cursor(cursor)
    expected = [
        m for m, s in (("ds_c", 10**15), ("ds_b", 2), ("ds_a", 1)) if s < score or (s == score and m < member)
    ]
    assert items == expected


# -- Idempotency-Key --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed(settings):
    return create_app({"SETTINGS": replace(settings, queue_name=settings.queue_name + "-keys")}).test_client()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(st.characters(max_codepoint=255, exclude_characters="\r\n\x00"), max_size=300))
def test_an_idempotency_key_is_accepted_exactly_when_it_matches_its_pattern(keyed, key):
    matches = (
        len(key) <= MAX_KEY_LENGTH and re.fullmatch(IDEMPOTENCY_KEY_PATTERN.strip("^$"), key) is not None
    )
    r = keyed.post(
        "/v1/jobs",
        json={"dataset_id": "ds_none", "optimizer": {"type": "gd"}},
        headers={"Idempotency-Key": key},
    )
    fields = {e["field"] for e in r.get_json().get("errors", [])}
    assert ("Idempotency-Key" not in fields) == matches, (key, r.get_json())


UNDOCUMENTED = {"/", "/docs", "/docs/<path:name>", "/static/<path:filename>"}
"""The dashboard, the interactive docs and their files: pages for people, not API operations."""


def test_every_route_is_documented_and_every_documented_operation_is_a_route():
    app = create_app({"SETTINGS": DEFAULTS})
    routes = {
        (re.sub(r"<(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule not in UNDOCUMENTED
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, item in openapi_document(DEFAULTS)["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert routes == documented
