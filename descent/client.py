"""A small Python client for descent's HTTP API (standard library only).

    client = Client("http://localhost:8000", api_key=None)
    ds = client.upload("data.csv", target="price")     # or a DataFrame, an array, CSV text
    job = client.submit({"dataset_id": ds["id"], "optimizer": {"type": "sgd", "lr": 0.01}})
    for job in client.watch(job["id"]): ...
    client.predict(job["id"], frame)                    # rows matched by column name

Errors come back as `ApiError` carrying the problem+json document, so a caller can show one clear
line (`str(error)`) or look at `error.problem["errors"]`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .client_data import is_dataframe, predict_payload, target_column, upload_body

TERMINAL = ("succeeded", "failed", "cancelled")


class ApiError(Exception):
    """The API answered with an error (problem+json), or could not be reached (status 0)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
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
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                problem = json.loads(payload)
            except ValueError:
                problem = {"title": exc.reason, "detail": payload.decode(errors="replace")[:200]}
            raise ApiError(exc.code, problem) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(0, {"detail": f"cannot reach {self.url}: {reason}"}) from None
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
        `decimal`, `null_values`). Sent as a multipart file part, its type from the file's extension."""
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
        return self.request(
            "POST", "/v1/datasets", body, f"multipart/form-data; boundary={boundary}", query=csv_options or None
        )

    def upload_csv(self, path: Path, target: str | None = None, name: str | None = None) -> dict[str, Any]:
        """A CSV file (kept for v1 callers: `upload` takes any table)."""
        return self.upload(Path(path), target=target, name=name)

    def submit(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.json("POST", "/v1/jobs", request)

    def job(self, job_id: str) -> dict[str, Any]:
        return self.json("GET", f"/v1/jobs/{job_id}")

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self.json("POST", f"/v1/jobs/{job_id}/cancel")

    def history(self, job_id: str) -> dict[str, list[Any]]:
        """Every point written so far (all of them once the job has ended), paged with `after`."""
        train: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": [], "smoothed": []}
        dev: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": []}
        after = 0
        while True:
            page = self.json("GET", f"/v1/jobs/{job_id}/history", query={"after": after})
            for key in train:
                train[key] += page["train"][key]
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

    def watch(self, job_id: str, interval: float = 0.2) -> Iterator[dict[str, Any]]:
        """The job, every `interval` seconds, until it has ended (the last one yielded is final)."""
        while True:
            job = self.job(job_id)
            yield job
            if job["status"] in TERMINAL:
                return
            time.sleep(interval)
