"""POST/GET/list/DELETE /v1/datasets through the real app and a real Redis."""

from __future__ import annotations

import io

import numpy as np
import pytest

from service import create_app
from tests.support.api import problem

CSV = "a,b,price\n1,2,3\n4,5,6.5\n7,8,9\n"


def test_csv_body_is_parsed_stored_and_described(client):
    r = client.post("/v1/datasets?name=tiny&target=price", data=CSV, content_type="text/csv")
    assert r.status_code == 201
    ds = r.get_json()
    assert r.headers["Location"] == f"/v1/datasets/{ds['id']}"
    assert ds["name"] == "tiny" and ds["rows"] == 3 and ds["features"] == 2
    assert ds["feature_names"] == ["a", "b"] and ds["target_name"] == "price"
    assert ds["bytes"] == 3 * 2 * 4 + 3 * 4
    np.testing.assert_allclose(ds["stats"]["x_mean"], [4, 5])
    np.testing.assert_allclose(ds["stats"]["x_std"], np.std([[1, 2], [4, 5], [7, 8]], axis=0))
    assert ds["stats"]["y_min"] == 3 and ds["stats"]["y_max"] == 9
    assert len(ds["id"]) >= 32
    assert client.get(f"/v1/datasets/{ds['id']}").get_json() == ds


def test_target_by_index_and_default_last_column(client):
    by_index = client.post("/v1/datasets?target=0", data=CSV, content_type="text/csv").get_json()
    assert by_index["target_name"] == "a" and by_index["feature_names"] == ["b", "price"]
    default = client.post("/v1/datasets", data="1,2\n3,4\n", content_type="text/csv").get_json()
    assert default["feature_names"] == ["col0"] and default["target_name"] == "col1"


def test_multipart_upload(client):
    data = {"file": (io.BytesIO(CSV.encode()), "houses.csv"), "target": "b"}
    r = client.post("/v1/datasets", data=data, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    ds = r.get_json()
    assert ds["name"] == "houses.csv" and ds["target_name"] == "b"


def test_multipart_without_file_field(client):
    r = client.post("/v1/datasets", data={"name": "x"}, content_type="multipart/form-data")
    assert problem(r, 400)["errors"][0]["field"] == "file"


@pytest.mark.parametrize(
    "doc, features, target",
    [
        ({"name": "xy", "x": [[1.0, 2.0], [3.0, 4.0]], "y": [1.0, 2.0]}, ["x0", "x1"], "y"),
        ({"columns": ["a", "b", "c"], "rows": [[1, 2, 3], [4, 5, 6]], "target": "a"}, ["b", "c"], "a"),
    ],
)
def test_json_forms(client, doc, features, target):
    r = client.post("/v1/datasets", json=doc)
    assert r.status_code == 201, r.get_json()
    ds = r.get_json()
    assert ds["feature_names"] == features and ds["target_name"] == target and ds["rows"] == 2


@pytest.mark.parametrize(
    "body, needle",
    [
        ("", "empty"),
        ("a,b\n1,2\n", "2"),
        ("1,2,3\n4,5\n6,7,8\n", "line 2"),
        ("1,2\n3,inf\n", "line 2"),
        ("1,2\n3,1e39\n", "line 2"),
    ],
)
def test_bad_csv_is_a_precise_400(client, body, needle):
    """A text cell is no fault any more (its column is a category) and `nan` is a missing cell."""
    body_json = problem(client.post("/v1/datasets", data=body, content_type="text/csv"), 400)
    text = body_json["detail"] + " ".join(e["message"] for e in body_json.get("errors", []))
    assert needle in text.lower() or needle in text


def test_unknown_target_names_the_columns(client):
    body = problem(client.post("/v1/datasets?target=nope", data=CSV, content_type="text/csv"), 400)
    assert body["errors"][0]["field"] == "target"
    assert "price" in body["errors"][0]["message"]


def test_wrong_content_type_is_415(client):
    problem(client.post("/v1/datasets", data=b"\x00\x01", content_type="application/octet-stream"), 415)


def test_malformed_json_is_400(client):
    problem(client.post("/v1/datasets", data="{", content_type="application/json"), 400)


def test_body_over_the_request_limit_is_413(settings):
    from dataclasses import replace

    small = create_app({"SETTINGS": replace(settings, max_request_bytes=100)}).test_client()
    body = problem(small.post("/v1/datasets", data="1,2\n" * 100, content_type="text/csv"), 413)
    assert "DESCENT_MAX_REQUEST_BYTES" in body["detail"] and "100" in body["detail"]


def test_too_many_cells_is_413_naming_the_limit(settings):
    from dataclasses import replace

    small = create_app({"SETTINGS": replace(settings, max_dataset_cells=10)}).test_client()
    body = problem(small.post("/v1/datasets", data="1,2\n" * 20, content_type="text/csv"), 413)
    assert "DESCENT_MAX_DATASET_CELLS" in body["detail"]


def test_list_is_newest_first_and_pages_without_repeats(settings):
    from dataclasses import replace

    # A Redis database of its own, so the list holds exactly what this test made.
    isolated = replace(settings, redis_url=settings.redis_url.rsplit("/", 1)[0] + "/3")
    c = create_app({"SETTINGS": isolated}).test_client()
    c.application.extensions["descent.redis"].flushdb()
    ids = [
        c.post(f"/v1/datasets?name=d{i}", data=CSV, content_type="text/csv").get_json()["id"]
        for i in range(7)
    ]
    seen, cursor = [], None
    while True:
        page = c.get("/v1/datasets?limit=3" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [d["id"] for d in page["datasets"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]
    problem(c.get("/v1/datasets?cursor=garbage!"), 400)
    problem(c.get("/v1/datasets?limit=0"), 400)


def test_delete_then_404(client):
    ds = client.post("/v1/datasets", data=CSV, content_type="text/csv").get_json()
    assert client.delete(f"/v1/datasets/{ds['id']}").status_code == 204
    problem(client.get(f"/v1/datasets/{ds['id']}"), 404)
    problem(client.delete(f"/v1/datasets/{ds['id']}"), 404)


def test_unknown_route_and_method_are_problems(client):
    problem(client.get("/v1/nothing"), 404)
    r = client.put("/v1/datasets")
    problem(r, 405)
    assert "POST" in r.headers["Allow"]
