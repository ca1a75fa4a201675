"""schemathesis against /openapi.json, with all its checks: a real gunicorn, the `st` CLI.

The command is the one a developer runs by hand, from the repository root:

    st run http://<host>:<port>/openapi.json

and schemathesis.toml makes it bounded and deterministic (20 cases per operation and phase, 100
stateful scenarios, the same cases every run: well under two minutes on two cores), selects every
check, and turns off positive_data_acceptance for the three operations whose rules JSON Schema
cannot state (the file says which rules, and why). The service runs with the two tenants of
tests/api/schemathesis_auth.json, so the auth and object-level-authorization checks have
something to check, and a queue no worker listens on: jobs stay queued, which is all the API
needs. It runs twice: against gunicorn, and through the compose proxy (nginx, tests/support/proxy.py)
in front of it, as clients reach the API in a deployment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.processes import ROOT, free_port, wait_for
from tests.support.proxy import Proxy

AUTH_FILE = ROOT / "tests" / "api" / "schemathesis_auth.json"
ST_TIMEOUT_SECONDS = 240


def api_keys() -> str:
    """DESCENT_API_KEYS for the users of the schemathesis auth file: one tenant each (`st-<name>`)."""
    users = json.loads(AUTH_FILE.read_text())["auth"]
    pairs = []
    for user in users:
        (header,) = [h for h in user["fixedHeaders"] if h["name"] == "Authorization"]
        pairs.append(f"st-{user['name']}:{header['value'].removeprefix('Bearer ')}")
    return ",".join(pairs)


def st_command() -> str:
    """The `st` of this interpreter's environment (the CLI schemathesis installs)."""
    here = Path(sys.executable).with_name("st")
    found = str(here) if here.exists() else shutil.which("st")
    if found is None:
        pytest.fail("the schemathesis CLI `st` is not installed: pip install -e '.[dev]'")
    return found


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gunicorn") / "error.log"


@pytest.fixture(scope="module", params=["gunicorn", "proxy"])
def api_url(request: pytest.FixtureRequest, redis_url: str, queue_name: str, server_log: Path) -> Iterator[str]:
    """`python -m service` (gunicorn; the command the API's container runs) on a free port, alone or
    behind the proxy."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        DESCENT_BIND=f"127.0.0.1:{port}",
        REDIS_URL=redis_url,
        DESCENT_QUEUE_NAME=f"{queue_name}-schemathesis",
        DESCENT_API_KEYS=api_keys(),
        # Jobs never run here, so they all stay open: do not let the per-tenant cap end the run's
        # ability to create jobs halfway through.
        DESCENT_MAX_OPEN_JOBS="1000000",
        DESCENT_SSE_SECONDS="2",
        PYTHONPATH=str(ROOT),
    )
    log = server_log.open("w")  # the error log (tracebacks of any 500); the access log is dropped
    proc = subprocess.Popen(
        [sys.executable, "-m", "service"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited ({proc.returncode}):\n{server_log.read_text()}")
        try:
            return requests.get(f"{url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:  # not listening yet, or still loading the app
            return False

    try:
        wait_for(up, 60, interval=0.1, what="gunicorn to answer /healthz")
        if request.param == "proxy":
            from descent.settings import Settings

            limit = Settings.from_env(env).max_request_bytes
            with Proxy(f"127.0.0.1:{port}", {"DESCENT_MAX_REQUEST_BYTES": str(limit)}) as proxy:
                yield proxy.base
        else:
            yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_schemathesis_finds_nothing(api_url: str, server_log: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS_")}
    command = [st_command(), "run", f"{api_url}/openapi.json", "--no-color"]
    try:
        run = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=ST_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(command)} ran over {ST_TIMEOUT_SECONDS}s:\n{exc.stdout}\n{exc.stderr}")
    output = f"{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, (
        f"{' '.join(command)} exited {run.returncode}:\n{output}\n"
        f"--- the server's error log ---\n{server_log.read_text()[-20000:]}"
    )
    # Every phase ran (a phase that is skipped or errors out is no proof of anything).
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, f"phase {phase} did not pass:\n{output}"
