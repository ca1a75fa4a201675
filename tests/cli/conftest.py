"""The real app served over HTTP on a free port, for the command line and the Python client."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.support.processes import free_port


@pytest.fixture(scope="module")
def url(app):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
