"""A real stack (redis-server, gunicorn, a worker: docker-compose.yml's commands, started natively)
and headless Chromium driven by Playwright, for the dashboard's browser tests.

Chromium is Debian's (`apt-get install chromium`, which .ci/run does); Playwright never downloads a
browser here. Without either, the tests fail in CI (CI=true) and are skipped elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.support.api import HttpClient
from tests.support.stack import compose_stack

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
    env = {"DESCENT_API_KEYS": f"browser:{API_KEY}", "DESCENT_TORCH_THREADS": "1"}
    with compose_stack(env, redis_args=("--appendonly", "no"), wait_for_worker=True) as running:
        api = HttpClient(running.base, API_KEY)
        yield SimpleNamespace(base=running.base, key=API_KEY, api=api, redis_url=running.redis_url)


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
