"""Bodies over 1 MiB are spooled to a file in DESCENT_UPLOAD_SPOOL_DIR and mapped for the reader:
the datasets are the ones the bytes give in memory, faults are still named by line, and nothing
is left in the spool directory."""

from __future__ import annotations

import io
import mmap
from dataclasses import replace

import pytest

from service import create_app
from service.tables import ReadOptions, describe, read_upload
from service.upload_body import SPOOL_FROM, spooled_body
from tests.support.api import problem
from tests.support.real_data import big_mixed, csv_text, feather_bytes, parquet_bytes

DESCRIBED = ("rows", "features", "feature_names", "target_name", "columns", "stats", "bytes")


@pytest.fixture(scope="module")
def frame():
    return big_mixed()


@pytest.fixture()
def spool_app(settings, tmp_path):
    return create_app({"SETTINGS": replace(settings, upload_spool_dir=str(tmp_path)), "TESTING": True})


def _expected(data: bytes, fmt: str, settings) -> dict:
    described = describe(read_upload(data, fmt, ReadOptions(), settings))
    return {k: described[k] for k in DESCRIBED if k in described}


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("csv", "text/csv"), ("parquet", "application/vnd.apache.parquet"), ("arrow", "application/vnd.apache.arrow.file")],
)
def test_a_large_body_read_from_its_spool_file_is_the_dataset_its_bytes_give(
    spool_app, settings, tmp_path, frame, fmt, content_type
):
    data = {"csv": lambda: csv_text(frame).encode(), "parquet": lambda: parquet_bytes(frame)}.get(
        fmt, lambda: feather_bytes(frame)
    )()
    assert len(data) > SPOOL_FROM
    client = spool_app.test_client()
    raw = client.post("/v1/datasets", data=data, content_type=content_type)
    assert raw.status_code == 201, raw.get_json()
    part = {"file": (io.BytesIO(data), f"big.{fmt}", content_type)}
    multipart = client.post("/v1/datasets", data=part, content_type="multipart/form-data")
    assert multipart.status_code == 201, multipart.get_json()
    expected = _expected(data, fmt, settings)
    for response in (raw, multipart):
        assert {k: response.get_json()[k] for k in expected} == expected
    assert list(tmp_path.iterdir()) == []  # unlinked files: nothing to clean up, even after a crash


def test_a_ragged_row_in_a_spooled_body_is_named_by_its_line(spool_app, frame):
    lines = csv_text(frame).splitlines(keepends=True)
    lines[100_000] = "1,2,red,2020-01-01,3,4\n"
    r = spool_app.test_client().post("/v1/datasets", data="".join(lines), content_type="text/csv")
    assert "line 100001: has 6 values, expected 5" in problem(r, 400)["errors"][0]["message"]


def test_a_large_body_is_mapped_and_a_small_one_kept_in_memory(spool_app):
    big = bytes(range(256)) * (SPOOL_FROM // 256 + 1)
    with spool_app.app_context():
        mapped = spooled_body(io.BytesIO(big), len(big))
        small = spooled_body(io.BytesIO(big[:100]), 100)
        short = spooled_body(io.BytesIO(big[:-5]), len(big))  # the client sent less than it said
    assert isinstance(mapped, mmap.mmap) and mapped[:] == big
    assert isinstance(small, bytearray) and small == big[:100]
    assert short[:] == big[:-5]


@pytest.mark.parametrize("multipart", [False, True])
@pytest.mark.parametrize("rows", [200, None])
def test_an_idempotent_upload_is_read_once_for_its_fingerprint_and_its_dataset(spool_app, frame, multipart, rows):
    """A large body from its spool file, a small one from memory: raw or multipart, the repeat is
    the first answer and another body under the key a 409."""
    frame = frame.head(rows) if rows else frame
    data = csv_text(frame).encode()
    assert (len(data) > SPOOL_FROM) == (rows is None)
    client = spool_app.test_client()

    def send(body: bytes, key: str):
        headers = {"Idempotency-Key": key}
        if multipart:  # one boundary for every send, as a client repeating its request sends it
            head = b'--fixed\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            form = head + b"Content-Type: text/csv\r\n\r\n" + body + b"\r\n--fixed--\r\n"
            return client.post(
                "/v1/datasets", data=form, content_type="multipart/form-data; boundary=fixed", headers=headers
            )
        return client.post("/v1/datasets", data=body, content_type="text/csv", headers=headers)

    key = f"{rows}-{multipart}-{spool_app.config['SETTINGS'].upload_spool_dir}"
    first = send(data, key)
    assert first.status_code == 201, first.get_json()
    again = send(data, key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"] and first.get_json()["rows"] == len(frame)
    assert problem(send(data[:-20], key), 409)
