"""The OpenAPI 3.1 document, built from the pydantic models that validate and describe the API.

Each route is documented next to its view (`parts.documents`), with references to those models, so
the document cannot drift from the validation: changing a field in `schemas` changes both. The
document describes the running service: its limits (DESCENT_MAX_*) are the bounds of the schemas,
and whether API keys are required depends on DESCENT_API_KEYS.

What the document promises, and `tests/api/test_schemathesis.py` checks against a live server:
every request a schema accepts is accepted (except the rules JSON Schema cannot state, which the
descriptions name), every request it rejects is rejected with a 4xx, and every response — each
status code, header and body — is one the document lists.

    parts.py       the registry and the building blocks of operations
    components.py  the schemas
    document.py    the whole document
"""

from __future__ import annotations

from typing import Any

from descent.settings import Settings

from .parts import CURSOR_QUERY_PATTERN

__all__ = ["CURSOR_QUERY_PATTERN", "openapi_document"]


def openapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """The whole document, for a service running with `settings`."""
    from .document import build

    return build(settings)
