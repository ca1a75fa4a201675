"""The whole OpenAPI document: the operations the view modules registered, and the components.

The view modules are imported here, not at the package's import, so that they can import
`service.openapi.parts` without a cycle.
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

from descent.settings import Settings

from . import parts
from .components import components

VIEW_MODULES = (
    "service.datasets",
    "service.jobs",
    "service.trained",
    "service.sweeps",
    "service.events",
    "service.ops",
    "service.metrics",
)
"""The modules whose views are documented, in the order their paths appear in the document (a
module missing here fails the build, so no route goes undocumented by accident)."""

_PATH_PARAMETER = re.compile(r"{(\w+)}")


def paths(settings: Settings) -> dict[str, Any]:
    """Every registered operation, grouped by path; a path with parameters declares them once."""
    for module in VIEW_MODULES:
        importlib.import_module(module)
    out: dict[str, dict[str, Any]] = {}
    # by module, then as written: an order that does not depend on which module was imported first
    for operation in sorted(parts.OPERATIONS, key=lambda o: VIEW_MODULES.index(o.build.__module__)):
        item = out.get(operation.path)
        if item is None:
            names = _PATH_PARAMETER.findall(operation.path)
            item = out[operation.path] = {"parameters": [parts.path_id(n) for n in names]} if names else {}
        if operation.method in item:
            raise ValueError(f"{operation.method} {operation.path} is documented twice")
        item[operation.method] = operation.build(settings)
    return out


def build(settings: Settings | None = None) -> dict[str, Any]:
    """The whole document, for a service running with `settings`."""
    settings = settings or Settings()
    keyed = bool(settings.api_keys.strip())
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "descent",
            "version": "1",
            "description": "Training as a service: upload a dataset, submit a job, watch its loss. "
            + (
                "Every /v1 request needs `Authorization: Bearer <key>`."
                if keyed
                else "This service runs open (DESCENT_API_KEYS is empty): a key is not needed."
            ),
        },
        "security": [{parts.SECURITY: []}] if keyed else [{parts.SECURITY: []}, {}],
        "paths": paths(settings),
        "components": {
            "schemas": components(settings),
            "securitySchemes": {
                parts.SECURITY: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API key from DESCENT_API_KEYS (`tenant:key,…`); each key is one tenant",
                }
            },
        },
    }
    # A round trip through JSON: plain lists and dicts, no shared sub-objects.
    return json.loads(json.dumps(doc))
