"""The dashboard's page and files as the app serves them (no browser needed)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.support.processes import ROOT

DASHBOARD = ROOT / "service" / "static" / "dashboard"


@pytest.fixture()
def keyed_client(settings):
    from service import create_app

    app = create_app({"SETTINGS": replace(settings, api_keys="t:secret"), "TESTING": True})
    return app.test_client()


def test_the_page_is_public_and_loads_only_its_own_files(keyed_client):
    r = keyed_client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    page = r.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert "/static/dashboard/app.js" in assets and "/static/dashboard/style.css" in assets
    for asset in assets:
        served = keyed_client.get(asset)
        assert served.status_code == 200, asset
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page), "no CDN: every file comes from the app"
    assert keyed_client.get("/v1/datasets").status_code == 401


def test_every_module_import_resolves_to_a_served_file(keyed_client):
    modules = sorted(DASHBOARD.rglob("*.js"))
    assert modules
    for module in modules:
        source = module.read_text()
        assert not re.search(r"\bimport\s.*from\s+[\"'](?:https?:)?//", source), module
        assert not re.search(r"\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML", source), (
            f"{module}: build nodes with h(), not innerHTML"
        )
        for target in re.findall(r"from\s+\"(\.[^\"]+)\"", source):
            path = (module.parent / target).resolve()
            assert path.is_file(), f"{module.name} imports a missing {target}"
            url = "/static/" + path.relative_to(ROOT / "service" / "static").as_posix()
            r = keyed_client.get(url)
            assert r.status_code == 200 and r.mimetype in ("text/javascript", "application/javascript"), url


def test_the_modules_are_shipped_with_the_package():
    """pyproject's package-data must cover every folder of the dashboard (a wheel has nothing else)."""
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "service"
    ]
    for path in DASHBOARD.rglob("*"):
        if path.is_file():
            rel = path.relative_to(ROOT / "service").as_posix()
            assert any(re.fullmatch(p.replace(".", r"\.").replace("*", "[^/]*"), rel) for p in data), rel
