"""Re-run the README's shell walk-throughs and paste what they print under them.

    python docs/readme_outputs.py "## A walk-through with curl" "## The command line"

For each named section, every ```sh block followed by an output block (``` or ```json) is run in one
bash session (so variables carry over), in a scratch directory, against the stack DESCENT_URL/API
point at; the output block is replaced by what the commands printed. Keeps the README honest.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"```sh\n(.*?)```\n```(json)?\n(.*?)```", re.S)


def section_bounds(text: str, heading: str) -> tuple[int, int]:
    start = text.index(heading)
    nxt = text.find("\n## ", start + len(heading))
    return start, len(text) if nxt == -1 else nxt


def main(headings: list[str]) -> None:
    text = README.read_text()
    for heading in headings:
        start, end = section_bounds(text, heading)
        section = text[start:end]
        pairs = list(FENCE.finditer(section))
        script = "set -e\n"
        for i, match in enumerate(pairs):
            script += f"echo '@@@{i}@@@'\n{match.group(1)}\n"
        with tempfile.TemporaryDirectory() as scratch:
            run = subprocess.run(
                ["bash", "-c", script], cwd=scratch, capture_output=True, text=True, check=True
            )
        outputs = re.split(r"^@@@\d+@@@\n", run.stdout, flags=re.M)[1:]
        for match, output in reversed(list(zip(pairs, outputs, strict=True))):
            fence = "```json" if match.group(2) else "```"
            block = f"```sh\n{match.group(1)}```\n{fence}\n{output.rstrip()}\n```"
            section = section[: match.start()] + block + section[match.end() :]
        text = text[:start] + section + text[end:]
    README.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
