"""What `descent list`, `export` and `delete` do: the tenant's datasets and jobs one a line (every
page followed, so `descent list jobs | grep failed` sees them all), a trained model written out in
any export format, and deletions one id at a time, each reported."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, BinaryIO

from .client import ApiError, Client

EXPORT_FORMATS = ("json", "safetensors", "onnx")


def dataset_line(ds: dict[str, Any]) -> str:
    shape = f"{ds['rows']} × {ds['features']} → {ds.get('target_name')}"
    return f"{ds['id']}  {ds['name']:<24}  {shape:<28}  {ds['created_at']}"


def job_line(job: dict[str, Any]) -> str:
    """A job: status, what it trains, its dataset, and its losses once it has them."""
    config = job.get("config") or {}
    model = config.get("model") or {}
    optimizer = config.get("optimizer") or {}
    what = f"{model.get('type', 'linear')}/{optimizer.get('type', '?')} lr={optimizer.get('lr')}"
    result = job.get("result") or {}
    losses = "  ".join(
        f"{name} {result[key]:.6g}" for name, key in (("train", "train_loss"), ("dev", "dev_loss")) if result.get(key) is not None
    )
    return f"{job['id']}  {job['status']:<9}  {what:<28}  {job['dataset_id']}  {losses}".rstrip()


def list_lines(client: Client, args: argparse.Namespace) -> Any:
    """The lines of `descent list KIND`, produced as the pages arrive."""
    if args.kind == "datasets":
        if args.status or args.dataset or args.sweep:
            raise ValueError("--status, --dataset and --sweep filter jobs, not datasets")
        items = client.datasets(limit=args.limit)
        line = dataset_line
    else:
        filters = {"status": args.status, "dataset_id": args.dataset, "sweep_id": args.sweep, "limit": args.limit}
        items = client.jobs(**{k: v for k, v in filters.items() if v is not None})
        line = job_line
    empty = True
    for item in items:
        empty = False
        yield line(item)
    if empty:
        yield f"no {args.kind[:-1]}"


def export(client: Client, args: argparse.Namespace, stdout: BinaryIO) -> str | None:
    """Write the model of `args.job` in `args.format` to `args.output` (stdout when `-`); what to
    tell the user on stderr, or None. Binary formats are not written to a terminal."""
    answer = client.export(args.job, args.format)
    data = (json.dumps(answer, indent=2) + "\n").encode() if args.format == "json" else answer
    if args.output == "-":
        if args.format != "json" and sys.stdout.isatty():
            raise ValueError(f"a {args.format} file is binary: give -o FILE, or redirect the output")
        stdout.write(data)
        stdout.flush()
        return None
    Path(args.output).write_bytes(data)
    return f"{args.output}: {args.format} model of {args.job}, {len(data)} bytes"


def delete(client: Client, kind: str, ids: list[str]) -> list[tuple[str, ApiError | None]]:
    """Delete each id in turn (one refusal does not stop the others): (id, the error or None)."""
    outcomes: list[tuple[str, ApiError | None]] = []
    for item in ids:
        try:
            (client.delete_dataset if kind == "dataset" else client.delete_job)(item)
            outcomes.append((item, None))
        except ApiError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise
            outcomes.append((item, exc))
    return outcomes


def add_catalogue_commands(sub: Any) -> None:
    """`list`, `export` and `delete` on the command line's subparsers."""
    ls = sub.add_parser("list", help="list the datasets or jobs, newest first (all pages)")
    ls.add_argument("kind", choices=["datasets", "jobs"])
    ls.add_argument("--status", choices=["queued", "running", "succeeded", "failed", "cancelled"], help="jobs only")
    ls.add_argument("--dataset", help="jobs of this dataset only")
    ls.add_argument("--sweep", help="jobs of this sweep only")
    ls.add_argument("--limit", type=int, help="items fetched per page")
    ex = sub.add_parser("export", help="a succeeded job's model as JSON, safetensors or ONNX")
    ex.add_argument("job")
    ex.add_argument("--format", choices=EXPORT_FORMATS, default="json")
    ex.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    de = sub.add_parser("delete", help="delete datasets or jobs (409 while a job uses or is them)")
    de.add_argument("kind", choices=["dataset", "job"])
    de.add_argument("ids", nargs="+", metavar="ID")
