"""How `descent` prints a finished job: its result as aligned `key  value` lines, then the
evaluation metrics of each split (`result.metrics`: train, dev, test) side by side, and a
classifier's confusion matrices for the held-out splits."""

from __future__ import annotations

import json
from typing import Any

SPLITS = ("train", "dev", "test")
RESULT_KEYS = ("outcome", "train_loss", "dev_loss", "test_loss", "r2", "accuracy", "epochs_run", "steps", "seconds")


def number(value: Any) -> str:
    """A value in 6 significant digits (floats), as it is otherwise; `-` for none."""
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def result_table(job: dict[str, Any]) -> str:
    """The end of a job as aligned `key  value` lines, and its metrics per split when it has them."""
    rows: list[tuple[str, str]] = [("job", job["id"]), ("status", job["status"])]
    if job.get("error"):
        rows.append(("error", f"{job['error']['type']}: {job['error']['message']}"))
    result = job.get("result") or {}
    for key in RESULT_KEYS:
        value = result.get(key)
        if value is not None:
            rows.append((key, number(value)))
    params = result.get("params")
    if isinstance(params, dict):
        rows.append(("weights", json.dumps(params["weights"])))
        rows.append(("bias", json.dumps(params["bias"])))
        names, weights = params.get("feature_names"), params["weights"]
        if names and len(names) == len(weights) and not isinstance(weights[0], list) and len(names) > 1:
            rows += [(f"  {name}", f"{w:.6g}") for name, w in zip(names, weights, strict=True)]
    elif isinstance(params, list):
        rows.append(("layers", " → ".join(str(len(layer["bias"])) for layer in params)))
    width = max(len(k) for k, _ in rows if not k.startswith("  "))  # a feature's name may be long
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines + metrics_lines(result.get("metrics"), result.get("classes")))


def metrics_lines(metrics: Any, classes: Any = None) -> list[str]:
    """`result.metrics` as a table (a row per metric, a column per split that has metrics), then
    the confusion matrix of each held-out split (of train when there is none); [] without metrics."""
    if not isinstance(metrics, dict):
        return []
    splits = [s for s in SPLITS if isinstance(metrics.get(s), dict)]
    if not splits:
        return []
    names: list[str] = []
    for split in splits:
        for key, value in metrics[split].items():
            if key not in names and (value is None or isinstance(value, int | float)):
                names.append(key)
    width = max(len("metrics"), *(len(n) + 2 for n in names))
    lines = ["", "metrics".ljust(width) + "".join(f"  {s:<10}" for s in splits).rstrip()]
    for name in names:
        cells = "".join(f"  {number(metrics[s].get(name)):<10}" for s in splits)
        lines.append(f"  {name}".ljust(width) + cells.rstrip())
    held_out = [s for s in splits if s != "train"] or splits
    for split in held_out:
        matrix = metrics[split].get("confusion_matrix")
        if isinstance(matrix, list) and matrix:
            lines += ["", *confusion_lines(split, matrix, classes)]
    return lines


def confusion_lines(split: str, matrix: list[list[int]], classes: Any) -> list[str]:
    """A confusion matrix with the class labels: rows are the true class, columns the predicted."""
    labels = [str(c) for c in classes] if isinstance(classes, list) and len(classes) == len(matrix) else [
        str(i) for i in range(len(matrix))
    ]
    first = max(len(label) for label in labels) + 2
    cell = max(len(label) for label in labels + [str(n) for row in matrix for n in row]) + 2
    lines = [f"confusion matrix ({split}; rows: true class, columns: predicted)"]
    lines.append(" " * first + "".join(label.rjust(cell) for label in labels))
    for label, row in zip(labels, matrix, strict=True):
        lines.append(f"  {label}".ljust(first) + "".join(str(n).rjust(cell) for n in row))
    return lines
