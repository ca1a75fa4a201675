"""What the browser tests (tests/browser) ask a page: pixels counted on a canvas, a signed-in page,
the text of a file the page downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

COUNT_COLOUR = """([selector, rgb, tolerance]) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.abs(data[i] - rgb[0]) <= tolerance && Math.abs(data[i + 1] - rgb[1]) <= tolerance
        && Math.abs(data[i + 2] - rgb[2]) <= tolerance) n++;
  }
  return n;
}"""

COUNT_NON_BACKGROUND = """(selector) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250) n++;
  return n;
}"""


def seen_pixels(page, script: str, arg: object, more_than: int) -> None:
    """Until the canvas check `script` (COUNT_COLOUR, COUNT_NON_BACKGROUND) counts more than `more_than`."""
    page.wait_for_function(f"([arg, n]) => ({script})(arg) > n", arg=[arg, more_than])


def dataset_chosen(page: Any) -> None:
    """Until a form's dataset select has a value (its datasets have loaded).

    Every wait_for_function here takes a function: Playwright evaluates a string expression with
    eval() in the page while it polls, which the dashboard's Content-Security-Policy forbids."""
    page.wait_for_function("() => document.getElementById('f-dataset-id').value !== ''")


def signed_in(page: Any, key: str) -> None:
    """The dashboard's API key in the page's local storage before any of its scripts run."""
    page.add_init_script(f"localStorage.setItem('descent.apiKey', {key!r})")


def downloaded_text(page: Any, click: Callable[[], None]) -> tuple[str, str]:
    """The suggested file name and the text of the download that `click()` starts."""
    with page.expect_download() as info:
        click()
    download = info.value
    path = download.path()
    with open(path, encoding="utf-8") as f:
        return download.suggested_filename, f.read()
