"""Every environment variable the service reads is in the README's Configuration table and .env.example.

(The `descent` command's own variables, DESCENT_URL, DESCENT_API_KEY and DESCENT_PROGRESS, are the
client's and documented with it in the README's command-line section.)"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from descent.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["service", "worker", "descent", "gunicorn.conf.py"]
CLIENT_SIDE = ("cli.py", "client.py")


def _read_by_code() -> set[str]:
    """Names written out in the code, and DESCENT_<FIELD> for every field of Settings (from_env)."""
    names = {"REDIS_URL" if f.name == "redis_url" else "DESCENT_" + f.name.upper() for f in fields(Settings)}
    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else path.rglob("*.py"):
            if source == "descent" and file.name in CLIENT_SIDE:
                continue
            names.update(re.findall(r"\"(DESCENT_[A-Z_]+)\"", file.read_text()))
    return names


def _readme_table() -> set[str]:
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE))


def _env_example() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_every_variable_the_code_reads_is_documented() -> None:
    read = _read_by_code()
    assert "DESCENT_WORKER_NICE" in read and "DESCENT_API_KEYS" in read  # the scan finds them
    assert read - _readme_table() == set()
    assert read - _env_example() == set()


def test_the_readme_table_and_env_example_list_the_same_variables() -> None:
    assert _readme_table() == _env_example()
