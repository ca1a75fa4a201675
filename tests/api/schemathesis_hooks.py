"""schemathesis hooks (schemathesis.toml loads this file): generation hints, never check changes.

Also the serializer for application/csv, which schemathesis does not know.

JSON Schema cannot say that every row of a dataset is as long as the first, so most generated
uploads are rightly rejected and stateful testing rarely gets a dataset to train on. These hooks
bend a generated *schema-valid* JSON upload into one that also follows those rules (rows cut or
padded to one length), and give every valid Idempotency-Key a suffix of its own, so that two
different generated requests do not collide on a key (a 409, as documented) instead of creating
what the chained calls need. schemathesis revalidates every case a hook changed, so a case stays
positive or negative by what it is after the change; invalid keys and schema-violating bodies are
left as they are.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import schemathesis

_counter = itertools.count()
_VALID_KEY = re.compile(r"[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*")


def _fit(row: Any, width: int) -> Any:
    if not isinstance(row, list):
        return row
    return [*row[:width], *[0.0] * (width - len(row))]


def _consistent_dataset(body: Any) -> Any:
    """x rows as long as x[0] and y as long as x; rows as long as columns, target among them."""
    if not isinstance(body, dict):
        return body
    x, y = body.get("x"), body.get("y")
    if isinstance(x, list) and x and isinstance(x[0], list) and x[0] and isinstance(y, list):
        body["x"] = [_fit(row, len(x[0])) for row in x]
        body["y"] = _fit(y, len(x))
    columns, rows = body.get("columns"), body.get("rows")
    if isinstance(columns, list) and len(columns) >= 2 and isinstance(rows, list):
        body["rows"] = [_fit(row, len(columns)) for row in rows]
        target = body.get("target")
        if isinstance(target, str) and target not in columns:
            body["target"] = columns[-1]
        elif isinstance(target, int) and not isinstance(target, bool):
            body["target"] = target % len(columns)
    return body


@schemathesis.serializer("application/csv")
def csv_body(context: Any, value: Any) -> bytes:
    """application/csv (an alias of text/csv the API accepts) goes on the wire as UTF-8 text."""
    return value if isinstance(value, bytes) else str(value).encode()


@schemathesis.hook.apply_to(method="POST", path=["/v1/datasets", "/v1/jobs", "/v1/sweeps"])
def map_case(context: Any, case: Any) -> Any:
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and _VALID_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = f"{key[:240]}-{next(_counter)}"
    if case.operation.path == "/v1/datasets":
        case.body = _consistent_dataset(case.body)
    return case
