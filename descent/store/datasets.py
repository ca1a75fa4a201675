"""Datasets in Redis: one hash holding the tenant, the JSON description and each column once.

A column is stored as typed little-endian bytes under `c{k}` (numbers float32 with NaN missing,
category codes int32 with -1 missing, datetimes float64 epoch seconds; text columns keep no values)
and described in `schema` (names, kinds, category labels, the target). Workers read the bytes as
numpy views: training never re-parses. Datasets stored before columns had kinds (fields `x` and `y`,
numbers only) read as tables of number columns.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from redis import Redis

from descent.table import Column, Table

from . import keys, scripts, tenants
from .paging import page
from .states import DeleteOutcome


@dataclass(frozen=True)
class Described:
    """A published dataset's owner, public description (read-only by convention), publish token
    ('' for a dataset stored before tokens) and the description's size in bytes as stored."""

    tenant: str
    meta: dict[str, Any]
    version: str
    size: int


UNPUBLISHED_SECONDS = 300
"""How long a dataset's columns are kept before its description is published (put_columns)."""


class DatasetStore:
    """Parsed once by the API, read as raw float32 bytes by workers: training never re-parses."""

    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self.redis = redis
        self.retention_seconds = retention_seconds
        self._delete = scripts.KeyedScript(redis, scripts.DELETE_DATASET)

    def put_table(self, tenant: str, meta: dict[str, Any], table: Table) -> None:
        """Store a dataset; `meta` is its public description and must carry `id` and `rows`."""
        self.put_columns(meta["id"], table)
        self.publish(tenant, meta, table)

    def put_columns(self, dataset_id: str, table: Table) -> None:
        """A dataset's columns, not yet visible (`get`, `table` and the list see it once `publish`
        has run), kept UNPUBLISHED_SECONDS: the API writes them while it describes the columns, and
        a request that dies between the two leaves nothing for long."""
        columns = [
            # a view on the array, not a copy
            (f"c{k}", memoryview(np.ascontiguousarray(col.values, dtype=_DTYPES[col.kind])).cast("B"))
            for k, col in enumerate(table.columns)
            if col.values is not None
        ]
        # Two round trips: the first column with the expiry in one transaction, so a request that
        # dies part way leaves nothing for long, then the others in one pipeline (one command each,
        # so Redis answers polls between them). A memoryview is sent as it is (packing.py): a
        # pipeline holds no copy of the columns. One command per column and round trip cost an
        # upload of 100k × 11 about 4.4 ms against 2.8 (1M × 11: 53-93 against 48-68 ms).
        key = keys.dataset(dataset_id)
        first = self.redis.pipeline(transaction=True)
        if columns:
            first.hset(key, mapping=dict(columns[:1]))
        first.expire(key, UNPUBLISHED_SECONDS)
        first.execute()
        if len(columns) > 1:
            rest = self.redis.pipeline(transaction=False)
            for name, values in columns[1:]:
                rest.hset(key, name, values)  # type: ignore[arg-type]
            rest.execute()

    def publish(self, tenant: str, meta: dict[str, Any], table: Table) -> None:
        """Make a dataset whose columns `put_columns` wrote visible: its tenant, description and
        schema, its retention, its place in the tenant's list."""
        dataset_id = meta["id"]
        schema = {
            "target": table.target,
            "rows": table.rows,
            "columns": [
                {"name": c.name, "kind": c.kind, "labels": list(c.labels), "has_time": c.has_time}
                for c in table.columns
            ],
        }
        mapping: dict[str, Any] = {
            "tenant": tenant,
            "meta": json.dumps(meta),
            "schema": json.dumps(schema),
            "version": uuid.uuid4().hex,  # what each publish stored: see `version`
        }
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.dataset(dataset_id), mapping=mapping)
        pipe.expire(keys.dataset(dataset_id), self.retention_seconds)
        pipe.zadd(keys.tenant_datasets(tenant), {dataset_id: meta["created_score"]})
        tenants.recheck(pipe, tenant, keys.dataset(dataset_id))  # its reserved size, measured
        pipe.execute()

    def get(self, tenant: str, dataset_id: str) -> dict[str, Any] | None:
        """The description, or None when missing or another tenant's."""
        described = self.described(dataset_id)
        return described.meta if described is not None and described.tenant == tenant else None

    def described(self, dataset_id: str) -> Described | None:
        """The dataset's owner, public description and publish token in one round trip (None:
        missing or unpublished): what a job request is checked against, and the token the job's
        creation then checks is still the dataset's (`JobStore.create`'s `dataset_version`)."""
        owner, meta, token = self.redis.hmget(keys.dataset(dataset_id), "tenant", "meta", "version")
        if owner is None or meta is None:
            return None
        return Described(owner.decode(), _public(json.loads(meta)), token.decode() if token else "", len(meta))

    def put(self, tenant: str, meta: dict[str, Any], x: np.ndarray, y: np.ndarray) -> None:
        """A dataset of numbers: `x` (rows × features) and the target `y`, named as `meta` names
        them (`feature_names`, `target_name`; else x1… and y)."""
        x = np.asarray(x, dtype=np.float32)
        names = meta.get("feature_names") or [f"x{j + 1}" for j in range(x.shape[1])]
        target = meta.get("target_name") or "y"
        columns = [Column(name, "number", np.ascontiguousarray(x[:, j])) for j, name in enumerate(names)]
        columns.append(Column(target, "number", np.asarray(y, dtype=np.float32)))
        self.put_table(tenant, meta, Table(tuple(columns), target, int(x.shape[0])))

    def version(self, dataset_id: str) -> str | None:
        """What names this stored dataset's contents (None: missing or unpublished), in one small
        round trip: a digest of its description, schema and the token each `publish` writes anew
        (a dataset published again under its id, columns and all, has another). A worker's dataset
        cache (worker/dataset_cache.py) asks it before every use of an entry."""
        return _digest(self.redis.hmget(keys.dataset(dataset_id), *_VERSION_FIELDS))

    def versions(self, dataset_ids: list[str]) -> dict[str, str | None]:
        """`version` of each of `dataset_ids`, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for dataset_id in dataset_ids:
            pipe.hmget(keys.dataset(dataset_id), *_VERSION_FIELDS)
        return {d: _digest(fields) for d, fields in zip(dataset_ids, pipe.execute(), strict=True)}

    def table(self, dataset_id: str) -> Table | None:
        """The dataset's columns as read-only numpy views on the stored bytes; None when missing.

        Read in replies of about READ_BYTES (`_read_fields`); a dataset published again while it
        was read is read again, and after READ_ATTEMPTS in one HGETALL."""
        return self.read_table(dataset_id)[0]

    def read_table(self, dataset_id: str) -> tuple[Table | None, str | None]:
        """`table`, and the `version` of what was read: the columns are all that version's (each
        reply asked for its publish token), so a worker's cache keeps them under it without asking
        again."""
        key = keys.dataset(dataset_id)
        fields = None
        for _ in range(READ_ATTEMPTS):
            fields = self._read_fields(key)
            if fields is not None:
                break
        if fields is None:
            fields = self.redis.hgetall(key)
        if b"meta" not in fields:
            return None, None
        version = _digest([fields.get(name.encode()) for name in _VERSION_FIELDS])
        if b"schema" not in fields:
            return _numbers_only(json.loads(fields[b"meta"]), fields), version
        schema = json.loads(fields[b"schema"])
        columns = []
        for k, col in enumerate(schema["columns"]):
            data = fields.get(f"c{k}".encode())
            values = None if data is None else np.frombuffer(data, dtype=_DTYPES[col["kind"]])
            columns.append(Column(col["name"], col["kind"], values, tuple(col["labels"]), col["has_time"]))
        return Table(tuple(columns), schema["target"], schema["rows"]), version

    def _read_fields(self, key: str) -> dict[bytes, bytes] | None:
        """The dataset's description, schema and columns as one publish stored them: the first
        three, then the columns a few per round trip, each asking for the publish token again; None
        when it changed meanwhile. A missing or unpublished dataset (no `meta`) reads as no fields;
        one stored before columns had kinds (no `schema`) comes whole from one HGETALL."""
        head = dict(zip(_VERSION_FIELDS, self.redis.hmget(key, *_VERSION_FIELDS), strict=True))
        if head["meta"] is None:
            return {}
        if head["schema"] is None:
            return self.redis.hgetall(key)
        schema = json.loads(head["schema"])
        fields = {name.encode(): value for name, value in head.items() if value is not None}
        sizes = [
            (f"c{k}", schema["rows"] * np.dtype(_DTYPES[col["kind"]]).itemsize)
            for k, col in enumerate(schema["columns"])
            if col["kind"] in _DTYPES
        ]
        for batch in _batches(sizes, READ_BYTES):
            *values, token = self.redis.hmget(key, *batch, "version")
            if token != head["version"]:
                return None
            fields.update((name.encode(), value) for name, value in zip(batch, values, strict=True) if value is not None)
        return fields

    def list(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first."""

        def load(ids: list[str]) -> list[dict[str, Any] | None]:
            pipe = self.redis.pipeline(transaction=False)
            for dataset_id in ids:
                pipe.hget(keys.dataset(dataset_id), "meta")
            metas = pipe.execute()
            gone = [dataset_id for dataset_id, m in zip(ids, metas, strict=True) if m is None]
            if gone:  # expired datasets leave their index entries behind; drop them as they are met
                self.redis.zrem(keys.tenant_datasets(tenant), *gone)
            return [_public(json.loads(m)) if m else None for m in metas]

        return page(self.redis, keys.tenant_datasets(tenant), limit, cursor, load)

    def delete(self, tenant: str, dataset_id: str) -> DeleteOutcome:
        """DELETED, MISSING (or not yours) or IN_USE (a queued or running job uses it)."""
        pipe = self.redis.pipeline(transaction=True)
        self._delete(
            keys={
                "dataset": keys.dataset(dataset_id),
                "dataset_active": keys.dataset_active_jobs(dataset_id),
                "tenant_datasets": keys.tenant_datasets(tenant),
            },
            args=[tenant, dataset_id],
            client=pipe,
        )
        tenants.recheck(pipe, tenant, keys.dataset(dataset_id))  # its bytes freed at the next read
        return DeleteOutcome(pipe.execute()[0].decode())


_VERSION_FIELDS = ("meta", "schema", "version")

READ_BYTES = 4 << 20
"""A dataset's columns are read a few at a time, in replies of about this many bytes (one column
when it is larger). Why not one HGETALL: redis-py's hiredis reader hands a reply over once all of it
is in, gathered in one growing buffer, and past a few MB that cost more than the bytes' transfer
(2-core machine, 2026-12-07: 1M × 11 float32, 44 MB, ~43 ms in one reply against ~15 ms a column
per round trip; 10k × 500, 20 MB, ~25 ms against ~8 ms in 4 MB replies; a worker's read of a fresh
1M-row dataset, 30-35 ms → 19-26 ms)."""
READ_ATTEMPTS = 3
"""Reads of a dataset being published again meanwhile before one HGETALL reads it whole."""


def _batches(sizes: list[tuple[str, int]], limit: int) -> list[list[str]]:
    """The names of `sizes` (name, bytes) in order, grouped into runs of at most `limit` bytes
    (a larger one alone)."""
    batches: list[list[str]] = []
    held = 0
    for name, size in sizes:
        if not batches or held + size > limit:
            batches.append([])
            held = 0
        batches[-1].append(name)
        held += size
    return batches


def _digest(fields: list[bytes | None]) -> str | None:
    """A dataset's version from its _VERSION_FIELDS (None: missing or unpublished)."""
    meta, schema, token = fields
    if meta is None:
        return None
    return hashlib.sha256(b"\0".join((meta, schema or b"", token or b""))).hexdigest()


_DTYPES = {"number": "<f4", "category": "<i4", "datetime": "<f8"}
"""How each kind of column is stored (descent/table.py)."""


def column_bytes(table: Table) -> int:
    """The bytes `put_columns` writes for `table`: what an upload reserves of its tenant's quota."""
    return sum(table.rows * np.dtype(_DTYPES[c.kind]).itemsize for c in table.columns if c.values is not None)


def _numbers_only(meta: dict[str, Any], fields: dict[bytes, bytes]) -> Table:
    """A dataset stored before columns had kinds: float32 `x` (rows × features) and `y`."""
    rows, features = meta["rows"], meta["features"]
    x = np.frombuffer(fields[b"x"], dtype="<f4").reshape(rows, features)
    names = meta.get("feature_names") or [f"x{j + 1}" for j in range(features)]
    target = meta.get("target_name") or "y"
    columns = [Column(name, "number", x[:, j]) for j, name in enumerate(names)]
    columns.append(Column(target, "number", np.frombuffer(fields[b"y"], dtype="<f4")))
    return Table(tuple(columns), target, rows)


def _public(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop the internal fields of a stored description."""
    return {k: v for k, v in meta.items() if k != "created_score"}
