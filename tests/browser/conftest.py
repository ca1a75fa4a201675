"""A real stack (redis-server, gunicorn, a worker: docker-compose.yml's commands, started natively)
and headless Chromium driven by Playwright, for the dashboard's browser tests.

Chromium is Debian's (`apt-get install chromium`, which .ci/run does); Playwright never downloads a
browser here. Without either, the tests fail in CI (CI=true) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.conftest import ROOT, free_port, wait_for
from tests.e2e.test_compose_commands import compose_command, compose_service

CHROMIUM = os.environ.get("DESCENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
API_KEY = "browser-test-key"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Fail in CI (the browser test must run there), skip on a developer's machine."""
    message = (
        f"{reason}. The dashboard's browser test needs Debian's chromium (apt-get install chromium; "
        f".ci/run installs it) at {CHROMIUM} and Playwright for Python (pip install -e '.[dev]'); "
        "never `playwright install`."
    )
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium executable at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def stack(browser):
    """redis-server, gunicorn and one worker, each started with its compose command, API keys on."""
    redis_port, api_port = free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="descent-browser-")
    env = dict(os.environ)
    compose_url = compose_service("worker")["environment"]["REDIS_URL"]
    env.update(
        REDIS_URL=compose_url.replace("@redis:6379", f"@127.0.0.1:{redis_port}"),
        DESCENT_BIND=f"127.0.0.1:{api_port}",
        DESCENT_API_PROCESSES="1",
        DESCENT_API_KEYS=f"browser:{API_KEY}",
        DESCENT_TORCH_THREADS="1",
        PYTHONPATH=str(ROOT),
    )
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    redis_cmd = [
        *compose_command("redis"),
        "--port",
        str(redis_port),
        "--bind",
        "127.0.0.1",
        "--dir",
        data_dir,
    ]
    redis_cmd += ["--appendonly", "no"]
    procs = [subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=0.2)

        def redis_up() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        wait_for(redis_up, 10, what="redis")
        for service in ("api", "worker"):
            command = compose_command(service)
            if command[0] == "python":
                command[0] = sys.executable
            procs.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        base = f"http://127.0.0.1:{api_port}"

        def api_up() -> bool:
            try:
                return requests.get(base + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(api_up, 30, interval=0.05, what="gunicorn")

        def worker_up() -> bool:  # so the first job does not wait for the worker to import torch
            return requests.get(base + "/readyz", timeout=2).status_code == 200

        wait_for(worker_up, 60, interval=0.1, what="a live worker (/readyz)")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {API_KEY}"
        yield SimpleNamespace(base=base, key=API_KEY, http=session)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture()
def page(browser, stack):
    """A fresh browser context (empty localStorage) at 1280×900; any uncaught script error fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=stack.base)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))

    def on_console(msg) -> None:
        # a 401 or 404 the page handles is logged by Chromium as "Failed to load resource": not a bug
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            errors.append(f"console.error: {msg.text}")

    pg.on("console", on_console)
    try:
        yield pg
    finally:
        context.close()
    assert not errors, "the dashboard logged script errors:\n" + "\n".join(errors)
