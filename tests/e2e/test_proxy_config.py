"""deploy/nginx/nginx.conf.template agrees with gunicorn's options and the API's problem shape, and
renders into a configuration Debian's nginx accepts with compose's values as with the tests'."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile

import pytest
from werkzeug.http import HTTP_STATUS_CODES

from descent.settings import Settings
from service.limits import rate_limited
from service.problems import PROBLEM_BASE
from service.schemas import ProblemDoc
from service.server import gunicorn_options
from tests.support.proxy import TEMPLATE, nginx_binary, rate_lines, render
from tests.support.stack import compose_service

TEXT = TEMPLATE.read_text()
VALUES = {"DESCENT_PROXY_LISTEN": "1", "DESCENT_PROXY_UPSTREAM": "a:1", "DESCENT_PROXY_DIR": "/d", "DESCENT_MAX_REQUEST_BYTES": "123"}
"""The template's own variables, for tests that only read what it renders."""


def seconds(directive: str, text: str = TEXT) -> int:
    """The first value of `directive` in `text` (the server's, before any location's)."""
    return int(re.findall(rf"^\s*{directive}\s+(\d+)s;", text, re.M)[0])


def test_gunicorn_keeps_idle_connections_longer_than_nginx_reuses_them():
    upstream = re.search(r"upstream descent_api \{(.*?)\n    \}", TEXT, re.S).group(1)
    assert gunicorn_options(Settings())["keepalive"] > seconds("keepalive_timeout", upstream)


def test_nginx_waits_for_gunicorn_as_long_as_gunicorn_works_on_a_request():
    assert seconds("proxy_read_timeout") > gunicorn_options(Settings())["timeout"]


def test_slow_clients_have_10_seconds():
    assert seconds("client_header_timeout") == seconds("client_body_timeout") == 10


def test_gunicorn_takes_any_request_line_and_header_nginx_lets_through():
    (size,) = re.search(r"large_client_header_buffers \d+ (\d+)k;", TEXT).groups()
    buffer = int(size) * 1024  # a request line, or one header line, must fit in one buffer
    options = gunicorn_options(Settings())
    assert options["limit_request_line"] >= buffer - 2  # gunicorn's largest (8190): the line without CRLF
    assert options["limit_request_field_size"] >= buffer  # gunicorn counts the CRLF


def test_the_body_limit_is_the_apis_setting():
    assert re.search(r"^\s*client_max_body_size \$\{DESCENT_MAX_REQUEST_BYTES\};", TEXT, re.M)


def test_nginx_problems_have_the_apis_shape():
    """Each of nginx's own error bodies is a problem+json document whose title and type are those the
    API gives the same status (werkzeug's names), and every error nginx can make has one; its 429
    is the API's own rate-limited document (below)."""
    text = render({**VALUES, "DESCENT_RATE_LIMIT": "5"})
    bodies = dict(re.findall(r"location = /_problem/(\d+) \{[^}]*?return \d+ '(.*?)\\n';", text, re.S))
    pages = set(re.findall(r"error_page (\d+) (?:=\d+ )?/_problem/(\d+);", text))
    assert {"400", "408", "413", "414", "431", "502", "503", "504"} <= set(bodies)
    assert {target for _, target in pages} == set(bodies)
    assert ("494", "431") in pages  # nginx's "request header too large"
    for status, body in bodies.items():
        if status == "429":
            continue
        doc = json.loads(body)
        title = HTTP_STATUS_CODES[int(status)]
        assert doc["status"] == int(status) and doc["title"] == title and doc["detail"]
        assert doc["type"] == PROBLEM_BASE + title.lower().replace(" ", "-")
    assert "DESCENT_MAX_REQUEST_BYTES = 123" in json.loads(bodies["413"])["detail"]
    assert re.search(r"location /_problem/ \{\s*internal;\s*default_type application/problem\+json;", text)


def test_nginxs_429_is_the_apis_rate_limited_problem_said_to_be_the_proxys():
    text = render({**VALUES, "DESCENT_RATE_LIMIT": "0.5"})
    block = re.search(r"location = /_problem/429 \{(.*?)\n\s*\}\n", text, re.S).group(1)
    doc = json.loads(re.search(r"return 429 '(.*?)\\n';", block).group(1))
    api = rate_limited(Settings(rate_limit=0.5), 2).body()
    assert doc == {**api, "detail": doc["detail"], "refused_by": "proxy"}
    ProblemDoc.model_validate(doc)  # the OpenAPI document's problem, refused_by included
    assert "add_header Retry-After 2 always;" in block and "retry in 2 s" in doc["detail"]  # 30r/m: one every 2 s
    assert "error_page 429 /_problem/429;" in text and "limit_req_status 429;" in text


@pytest.mark.parametrize(("rate", "burst"), [(100, 200), (100, 0), (0.5, 0), (2.5, 0), (1 / 60, 0), (0.1, 3), (7, 1)])
def test_nginx_is_never_stricter_than_the_api(rate, burst):
    """nginx's rate (whole requests a minute, kept as thousandths of a request a second, rounded
    down) is not below the API's, and its burst (it lets burst + 1 in at once) not below the API's."""
    lines = rate_lines({"DESCENT_RATE_LIMIT": str(rate), "DESCENT_RATE_BURST": str(burst)})
    (per_minute,) = re.findall(r"^limit_req_zone \$descent_rate_key zone=(descent_rate):10m rate=(\d+)r/m;$", lines["DESCENT_PROXY_RATE_ZONE"])
    (nginx_burst,) = re.findall(r"^limit_req zone=descent_rate burst=(\d+) nodelay;$", lines["DESCENT_PROXY_RATE_LIMIT"])
    api = Settings(rate_limit=rate, rate_burst=burst)
    assert int(per_minute[1]) * 1000 // 60 >= api.rate_limit * 1000 - 1e-9
    assert int(per_minute[1]) <= max(2, api.rate_limit * 60 * 1.1)  # and not much above it
    assert int(nginx_burst) >= api.burst


def test_no_limit_req_when_the_rate_limit_is_off():
    for values in (VALUES, {**VALUES, "DESCENT_RATE_LIMIT": "0", "DESCENT_RATE_BURST": "50"}):
        text = render(values)
        assert not re.search(r"^\s*limit_req(_zone)? ", text, re.M)


def test_a_rate_nginx_cannot_take_stops_the_rendering():
    for bad in ({"DESCENT_RATE_LIMIT": "fast"}, {"DESCENT_RATE_LIMIT": "-1"}, {"DESCENT_RATE_LIMIT": "1", "DESCENT_RATE_BURST": "1.5"}):
        with pytest.raises(ValueError, match="DESCENT_RATE_LIMIT and DESCENT_RATE_BURST must be numbers"):
            rate_lines(bad)


def test_events_are_not_buffered():
    block = re.search(r"location ~ \^/v1/jobs/\[\^/\]\+/events\$ \{(.*?)\}", TEXT, re.S).group(1)
    assert re.search(r"proxy_buffering off;", block)
    assert seconds("proxy_read_timeout", block) > Settings().sse_seconds


@pytest.mark.parametrize("rate", [None, "100", "0.5"])
def test_compose_values_render_a_configuration_nginx_accepts(rate):
    """Compose's values (the rate limit off), and with a rate limit."""
    env = {k: str(v) for k, v in compose_service("proxy")["environment"].items()}
    with tempfile.TemporaryDirectory() as scratch:
        conf = os.path.join(scratch, "nginx.conf")
        values = {**env, "DESCENT_PROXY_DIR": scratch, "DESCENT_PROXY_UPSTREAM": "127.0.0.1:8000"}
        if rate is not None:
            values["DESCENT_RATE_LIMIT"] = rate
        with open(conf, "w") as out:
            out.write(render(values))
        check = subprocess.run([nginx_binary(), "-t", "-p", scratch, "-c", conf, "-e", "stderr"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
