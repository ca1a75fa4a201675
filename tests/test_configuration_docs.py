"""Every environment variable descent reads is read in descent/settings.py, and documented.

The service's and the workers' variables (`Settings`) are in the README's Configuration table and
in .env.example; the `descent` command's (`ClientSettings`: DESCENT_URL, DESCENT_API_KEY,
DESCENT_PROGRESS) are documented with it in the README's command-line section.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from descent.settings import ClientSettings, Settings, variable

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("descent", "service", "worker")
SETTINGS_MODULE = ROOT / "descent" / "settings.py"
ENVIRONMENT_ACCESS = re.compile(
    r"\bos\.(environ|getenv|putenv)\b|\bfrom os import\b[^\n]*\b(environ|getenv)\b"
)
"""The ways of reaching the process environment (a WSGI `environ` is not one)."""



def _code_files() -> list[Path]:
    return sorted(f for package in PACKAGES for f in (ROOT / package).rglob("*.py"))


def _variables(cls: type) -> set[str]:
    return {variable(f) for f in fields(cls)}


def _readme_table() -> set[str]:
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE))


def _env_example() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_only_the_settings_module_touches_the_environment() -> None:
    touching = {
        str(file.relative_to(ROOT))
        for file in _code_files()
        if file != SETTINGS_MODULE and ENVIRONMENT_ACCESS.search(file.read_text())
    }
    assert ENVIRONMENT_ACCESS.search(SETTINGS_MODULE.read_text())  # the pattern finds a real read
    assert not (ROOT / "gunicorn.conf.py").exists()  # the server's options are Settings too
    assert touching == set()


def test_every_variable_named_in_the_code_is_a_setting() -> None:
    """A DESCENT_* name spelled anywhere in the code (a message naming a limit, say) is a field."""
    named, constants = set(), set()
    for file in _code_files():
        text = file.read_text()
        named.update(re.findall(r"\b(DESCENT_[A-Z_]+[A-Z])\b", text))
        constants.update(re.findall(r"^\s*(DESCENT_[A-Z_]+)\s*[:=]", text, flags=re.MULTILINE))
    named -= constants  # Python names such as worker.engine.config.DESCENT_TYPES
    known = _variables(Settings) | _variables(ClientSettings)
    assert "DESCENT_MAX_OPEN_JOBS" in named  # the scan finds them
    assert named - known == set()


def test_every_setting_is_documented() -> None:
    read = _variables(Settings)
    assert {"DESCENT_WORKER_NICE", "NUMBA_CACHE_DIR", "REDIS_URL", "DESCENT_BIND"} <= read
    assert read - _readme_table() == set()
    assert read - _env_example() == set()


def test_the_readme_table_and_env_example_list_the_same_variables() -> None:
    assert _readme_table() == _env_example()
