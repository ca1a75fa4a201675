"""A small Python client for descent's HTTP API (standard library only).

    client = Client("http://localhost:8000", api_key=None)
    ds = client.upload("data.csv", target="price")     # or a DataFrame, an array, CSV text
    job = client.submit({"dataset_id": ds["id"], "optimizer": {"type": "sgd", "lr": 0.01}})
    for job in client.watch(job["id"]): ...
    client.predict(job["id"], frame)                    # rows matched by column name
    client.export(job["id"], "onnx")                    # or "json", "safetensors"
    for ds in client.datasets(): client.delete_dataset(ds["id"])   # list, get, delete: jobs too

Errors come back as `ApiError` carrying the problem+json document, so a caller can show one clear
line (`str(error)`) or look at `error.problem["errors"]`.
"""

from __future__ import annotations

import http.client
import json
import select
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .client_data import is_dataframe, predict_payload, target_column, upload_body

TERMINAL = ("succeeded", "failed", "cancelled")
SEND_PIECE = 1 << 16
"""Bytes of a body sent at a time, between looks for an early answer."""
UPLOAD_ATTEMPTS = 6
"""Sends of one upload answered 503 with Retry-After (the API is busy reading others, or its store
is unreachable: nothing was stored) before the 503 is raised."""
MAX_RETRY_AFTER = 60.0
"""The longest Retry-After the client waits before sending an upload again."""


def _send(conn: http.client.HTTPConnection, body: bytes) -> None:
    """Send `body`, stopping when the server has answered (readable socket) or stopped reading."""
    sock, view, sent = conn.sock, memoryview(body), 0
    try:
        while sent < len(body):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                return  # an answer before the whole body: read it
            sent += sock.send(view[sent : sent + SEND_PIECE])
    except (BrokenPipeError, ConnectionResetError):
        return  # the server closed its reading side: its answer, if any, is still to be read


def _seconds(retry_after: str | None) -> float | None:
    """A Retry-After header's delay in seconds (the delay form; an HTTP date is not sent by descent)."""
    try:
        return max(0.0, float(retry_after)) if retry_after is not None else None
    except ValueError:
        return None


class ApiError(Exception):
    """The API answered with an error (problem+json), or could not be reached (status 0)."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: float | None = None) -> None:
        self.status = status
        self.problem = problem
        self.retry_after = retry_after
        """The answer's Retry-After in seconds, when it had one."""
        super().__init__(self.line())

    def line(self) -> str:
        if self.status == 0:
            return self.problem.get("detail", "cannot reach the API")
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in self.problem.get("errors", [])[:5])
        text = f"{self.status} {self.problem.get('title', 'error')}: {self.problem.get('detail', '')}"
        return f"{text} ({fields})" if fields and fields not in text else text


class Client:
    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    # -- transport ---------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        query: dict[str, Any] | None = None,
        raw: bool = False,
        accept: str = "application/json",
    ) -> Any:
        """One HTTP exchange; the answer's JSON (or bytes when `raw`), ApiError for any 4xx/5xx.

        Why http.client and not urllib: a server may answer before it has read the body (413 for a
        body over its limit, 401 for a bad key) and close the connection. The body is sent in
        pieces, and as soon as an answer is there (or the server stops reading) sending stops and
        the answer is read: the caller gets the server's 413, not "Broken pipe"."""
        target = urllib.parse.urlsplit(self.url)
        if query:
            path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": accept, "Content-Length": str(len(body or b""))}
        if content_type:
            headers["Content-Type"] = content_type
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        conn = kind(target.hostname or "localhost", target.port, timeout=self.timeout)
        try:
            conn.putrequest(method, target.path.rstrip("/") + path, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            _send(conn, body or b"")
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(0, {"detail": f"cannot reach {self.url}: {exc}"}) from None
        finally:
            conn.close()
        if response.status >= 400:
            try:
                problem = json.loads(data)
            except ValueError:
                problem = {"title": response.reason, "detail": data.decode(errors="replace")[:200]}
            raise ApiError(response.status, problem, _seconds(response.getheader("Retry-After")))
        if raw:
            return data
        return json.loads(data) if data else None

    def json(self, method: str, path: str, doc: Any = None, **kwargs: Any) -> Any:
        body = json.dumps(doc).encode() if doc is not None else None
        return self.request(method, path, body, "application/json" if body else None, **kwargs)

    # -- resources -----------------------------------------------------------------------------
    def upload(
        self,
        data: Any,
        target: str | None = None,
        name: str | None = None,
        *,
        y: Any = None,
        **csv_options: str,
    ) -> dict[str, Any]:
        """Upload a table: a path, CSV text, a pandas DataFrame or a 2-D numpy array (with `y`, the
        target, added as a column). `csv_options`: the server's CSV parameters (`delimiter`,
        `decimal`, `null_values`). Sent as a multipart file part, its type from the file's extension.
        An answer of 503 with Retry-After (the API is busy reading other uploads, or its store is
        unreachable: nothing was stored) is waited out and the upload sent again, UPLOAD_ATTEMPTS
        times in all."""
        content, content_type, filename = upload_body(data, y, target)
        if y is not None and is_dataframe(data):  # an array's y is its last column: the default target
            target = target_column(y, target)
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        ]
        for field, value in (("target", target), ("name", name)):
            if value is not None:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'.encode()
                )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                return self.request(
                    "POST", "/v1/datasets", body, f"multipart/form-data; boundary={boundary}", query=csv_options or None
                )
            except ApiError as exc:
                # a 503 with Retry-After stored nothing: the server asks for the upload again, later
                if exc.status != 503 or exc.retry_after is None or attempt == UPLOAD_ATTEMPTS:
                    raise
                time.sleep(min(exc.retry_after, MAX_RETRY_AFTER))
        raise AssertionError("unreachable")

    def upload_csv(self, path: Path, target: str | None = None, name: str | None = None) -> dict[str, Any]:
        """A CSV file (kept for v1 callers: `upload` takes any table)."""
        return self.upload(Path(path), target=target, name=name)

    def submit(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.json("POST", "/v1/jobs", request)

    def job(self, job_id: str, wait: float = 0.0) -> dict[str, Any]:
        """The job; with `wait`, answered as soon as it has ended or after `wait` seconds (capped at
        half this client's timeout), whichever is first (the server may also answer at once)."""
        seconds = min(wait, self.timeout / 2)
        if seconds > 0:
            return self.json("GET", f"/v1/jobs/{job_id}", query={"wait": f"{seconds:.3f}"})
        return self.json("GET", f"/v1/jobs/{job_id}")

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self.json("POST", f"/v1/jobs/{job_id}/cancel")

    def history(self, job_id: str) -> dict[str, list[Any]]:
        """Every point written so far (all of them once the job has ended), paged with `after`."""
        train: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": [], "smoothed": [], "lr": []}
        dev: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": []}
        after = 0
        while True:
            page = self.json("GET", f"/v1/jobs/{job_id}/history", query={"after": after})
            for key in train:
                # `lr`: a service from before schedules has none (None: unknown)
                train[key] += page["train"].get(key) or [None] * len(page["train"]["step"])
            for key in dev:
                dev[key] += page["dev"][key]
            if page["complete"] or not page["train"]["step"]:
                return {"train": train, "dev": dev}  # type: ignore[return-value]
            after = page["next"]

    def predict(self, job_id: str, data: Any, *, as_csv: bool = False) -> Any:
        """Predictions for a DataFrame, a numpy array, rows (dicts by column name, or number lists in
        the model's feature order), a CSV path or CSV text: `{"y", "probability", ...}`, or the CSV
        text the server writes when `as_csv`."""
        body = json.dumps(predict_payload(data)).encode()
        if as_csv:
            data_bytes = self.request(
                "POST", f"/v1/jobs/{job_id}/predict", body, "application/json", raw=True, accept="text/csv"
            )
            return data_bytes.decode()
        return self.request("POST", f"/v1/jobs/{job_id}/predict", body, "application/json")

    def sweep(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.json("POST", "/v1/sweeps", request)

    def get_sweep(self, sweep_id: str) -> dict[str, Any]:
        return self.json("GET", f"/v1/sweeps/{sweep_id}")

    def sweeps(self, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        """A page of the tenant's sweeps, newest first: {"sweeps": [...], "next_cursor": ...}."""
        return self.json("GET", "/v1/sweeps", query={"limit": limit, "cursor": cursor})

    # -- listing, reading, deleting, exporting ------------------------------------------------------
    def datasets(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every dataset of the tenant, newest first (pages followed as they are read)."""
        return self._pages("/v1/datasets", "datasets", {"limit": limit})

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        return self.json("GET", f"/v1/datasets/{dataset_id}")

    def delete_dataset(self, dataset_id: str) -> None:
        """ApiError 409 while a queued or running job uses it."""
        self.request("DELETE", f"/v1/datasets/{dataset_id}")

    def jobs(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every job, newest first; `filters`: status, dataset_id, sweep_id, limit (per page)."""
        return self._pages("/v1/jobs", "jobs", filters)

    def delete_job(self, job_id: str) -> None:
        """ApiError 409 while it is queued or running (cancel it first)."""
        self.request("DELETE", f"/v1/jobs/{job_id}")

    def export(self, job_id: str, format: str = "json") -> Any:
        """A succeeded job's model: the JSON document, or the bytes of a `safetensors` or `onnx` file."""
        if format == "json":
            return self.json("GET", f"/v1/jobs/{job_id}/model")
        return self.request("GET", f"/v1/jobs/{job_id}/model", query={"format": format}, raw=True, accept="*/*")

    def _pages(self, path: str, key: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self.json("GET", path, query={**query, "cursor": cursor})
            yield from page[key]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def watch(self, job_id: str, interval: float = 0.2) -> Iterator[dict[str, Any]]:
        """The job, every `interval` seconds, until it has ended (the last one yielded is final, as
        soon as the job has ended: each request waits for the end up to `interval`)."""
        while True:
            asked = time.monotonic()
            job = self.job(job_id, wait=interval)
            yield job
            if job["status"] in TERMINAL:
                return
            time.sleep(max(0.0, interval - (time.monotonic() - asked)))  # the server answered early
