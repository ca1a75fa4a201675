"""`descent sweep` and `descent sweeps`: a sweep's request from the command line (a grid, K-fold
cross-validation, a random or TPE search), and a sweep printed: its children ranked, under
cross-validation its candidates (mean ± std of the folds' dev losses), for a search its trials.

Values are read one way everywhere (the dashboard's sweep form reads them the same): JSON values
separated by commas, so `model.hidden=[16,16],[32]` is the two lists [16, 16] and [32]; a word
that is not JSON is a string (`optimizer.type=gd,sgd`).
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from .cli_results import number

GRID_HELP = "KEY=V1,V2,…: JSON values separated by commas, e.g. optimizer.lr=0.001,0.01 or model.hidden=[16,16],[32]"
SPACE_HELP = (
    "PATH=LOW:HIGH (a range; integers when both are), PATH=LOW:HIGH:log (a log range, LOW > 0), "
    "PATH=LOW:HIGH:STEP (a range in steps), or PATH=C1,C2,… (choices, written like --grid values)"
)
RANGE = re.compile(r"^\s*([^:]+):([^:]+)(?::([^:]+))?\s*$")
FRACTION = "data.train_fraction"


class UsageError(ValueError):
    """A command line that cannot make a sweep request (exit code 2)."""


def split_top_level(text: str) -> list[str]:
    """`a,[1,2],{"b":3}` → ["a", "[1,2]", '{"b":3}']: commas inside brackets or quotes stay."""
    parts, depth, quote, start, i = [], 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_values(text: str) -> list[Any]:
    """A list of values: `0.1,1` → [0.1, 1]; `[16,16],[32]` → [[16, 16], [32]]; `gd,sgd` → ["gd", "sgd"]."""
    try:
        values = json.loads(f"[{text}]")
    except ValueError:
        values = []
        for part in split_top_level(text):
            try:
                values.append(json.loads(part))
            except ValueError:
                values.append(part)
    return values


def assignment(spec: str, flag: str) -> tuple[str, str]:
    key, sep, rest = spec.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{flag} wants PATH=VALUES, got {spec!r}")
    return key.strip(), rest


def grid_of(specs: list[str]) -> dict[str, list[Any]]:
    grid = {}
    for spec in specs:
        key, values = assignment(spec, "--grid")
        grid[key] = parse_values(values)
    return grid


def space_of(specs: list[str]) -> dict[str, dict[str, Any]]:
    """`--space` options as the API's `space`: ranges, log ranges, stepped ranges and choices."""
    space = {}
    for spec in specs:
        key, text = assignment(spec, "--space")
        match = RANGE.match(text)
        if match:
            bounds = [_number(match.group(1)), _number(match.group(2))]
            if None in bounds:
                raise UsageError(f"--space {spec!r}: LOW and HIGH of a range are numbers")
            dim: dict[str, Any] = {"low": bounds[0], "high": bounds[1]}
            third = match.group(3)
            if third is not None and third.strip() == "log":
                dim["log"] = True
            elif third is not None:
                step = _number(third)
                if step is None:
                    raise UsageError(f"--space {spec!r}: the third part is `log` or a step, not {third!r}")
                dim["step"] = step
            space[key] = dim
        else:
            space[key] = {"choices": parse_values(text)}
    return space


def _number(text: str) -> int | float | None:
    """`8` → 8, `1e-4` and `.5` → floats, anything else → None."""
    try:
        value = json.loads(text.strip())
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def sweep_request(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any]:
    """The POST /v1/sweeps body from `descent sweep`'s options."""
    body: dict[str, Any] = {"dataset_id": args.dataset, "base": base}
    searching = args.search is not None
    if not (args.grid or args.folds or searching):
        raise UsageError("give --grid, --folds (cross-validation of the base job) or --search with --space")
    if searching and args.grid:
        raise UsageError("--grid and --search exclude each other: a search draws its trials from --space")
    if not searching and (args.space or any(v is not None for v in (args.trials, args.parallel, args.seed, args.pruner))):
        raise UsageError("--space, --trials, --parallel, --seed and --pruner go with --search random|tpe")
    if args.grid:
        body["grid"] = grid_of(args.grid)
    if args.folds is not None:
        body["validation"] = {"folds": args.folds}
    if searching:
        if not args.space:
            raise UsageError("--search needs at least one --space PATH=…")
        search: dict[str, Any] = {"method": args.search}
        for name in ("trials", "parallel", "seed", "pruner"):
            if getattr(args, name) is not None:
                search[name] = getattr(args, name)
        body["search"] = search
        body["space"] = space_of(args.space)
    return body


def add_sweep_options(sw: argparse.ArgumentParser) -> None:
    sw.add_argument("--grid", action="append", metavar="KEY=V1,V2", help=GRID_HELP)
    sw.add_argument("--folds", type=int, metavar="K", help="K-fold cross-validation of every grid point (without --grid: of the base job)")
    sw.add_argument("--search", choices=["random", "tpe"], help="search instead of a grid: trials drawn by Optuna")
    sw.add_argument("--space", action="append", metavar="PATH=SPEC", help=SPACE_HELP)
    sw.add_argument("--trials", type=int, help="trials in all (the API's default: 30)")
    sw.add_argument("--parallel", type=int, help="trials at once (default 4)")
    sw.add_argument("--seed", type=int, help="the search's seed (default 0)")
    sw.add_argument("--pruner", choices=["none", "median", "hyperband"], help="stop bad trials early by their dev loss per epoch")
    sw.add_argument("--base", help="the common job request as JSON")
    sw.add_argument("--set", action="append", metavar="KEY=VALUE", help="a field of the base job, e.g. epochs=50")
    sw.add_argument("--watch", action="store_true", help="wait until the sweep is done, then print it")


def kind(sweep: dict[str, Any]) -> str:
    """"grid", "grid · 5-fold cross-validation", "tpe search · 12/40 trials, 5 pruned"."""
    if sweep.get("search"):
        trials = sweep.get("trials") or {}
        pruned = f", {trials['pruned']} pruned" if trials.get("pruned") else ""
        return f"{sweep['search'].get('method', 'tpe')} search · {trials.get('started', 0)}/{trials.get('total', '?')} trials{pruned}"
    folds = (sweep.get("validation") or {}).get("folds")
    return f"grid · {folds}-fold cross-validation" if folds else "grid"


def sweep_lines(sweep: dict[str, Any]) -> list[str]:
    """A sweep: a heading, its children ranked, its candidates or search facts, the best."""
    counts = ", ".join(f"{n} {status}" for status, n in (sweep.get("counts") or {}).items()) or "none yet"
    metric = sweep["ranked_by"]
    lines = [f"{sweep['id']}  {sweep['status']}  {kind(sweep)}  {len(sweep['jobs'])} jobs ({counts})  ranked by {metric}"]
    curve = any(FRACTION in (j.get("overrides") or {}) for j in sweep["jobs"])
    jobs = sweep["jobs"]
    if curve:  # a learning curve reads along the training rows
        jobs = sorted(jobs, key=lambda j: (j.get("train_rows") is None, j.get("train_rows") or 0))
    for job in jobs:
        cells = [job["id"], f"{job['status']:<9}", f"{metric} {number(job.get(metric)):<12}"]
        if curve:
            other = "train_loss" if metric == "dev_loss" else "dev_loss"
            cells += [f"{other} {number(job.get(other)):<12}", f"rows {number(job.get('train_rows')):<6}"]
        tag = f"trial {job['trial']}" if job.get("trial") is not None else f"fold {job['fold']}" if job.get("fold") is not None else ""
        if job.get("outcome") == "pruned":
            tag += " pruned"
        if tag:
            cells.append(f"{tag:<15}")
        cells.append(json.dumps(job["overrides"]))
        lines.append("  ".join(cells))
    candidates = sweep.get("candidates")
    if candidates:
        folds = candidates[0]["folds"]
        lines += ["", f"candidates (mean ± std of the dev loss over {folds} folds, best first):"]
        for rank, c in enumerate(candidates, 1):
            score = f"{number(c['mean_dev_loss'])} ± {number(c['std_dev_loss'])}" if c["mean_dev_loss"] is not None else "-"
            means = "  ".join(f"{k} {number(v)}" for k, v in (c.get("metrics") or {}).items())
            lines.append(f"  {rank}  {score:<24}  {c['succeeded']}/{folds}  {json.dumps(c['overrides'])}" + (f"  {means}" if means else ""))
    if sweep.get("search"):
        trials = sweep.get("trials") or {}
        lines += [
            "",
            f"trials: {trials.get('started', 0)} started of {trials.get('total', '?')}, {trials.get('pruned', 0)} pruned "
            f"(pruning saved {sweep.get('epochs_saved', 0)} epochs)",
        ]
    if sweep.get("best_overrides") is not None:
        lines.append(f"best_overrides: {json.dumps(sweep['best_overrides'])}")
    if sweep.get("best_job_id") and not candidates:
        lines.append(f"best: {sweep['best_job_id']}")
    return lines


def sweeps_lines(page: dict[str, Any]) -> list[str]:
    """A page of GET /v1/sweeps, one sweep a line, and how to read the next page."""
    lines = []
    for s in page["sweeps"]:
        total = sum((s.get("counts") or {}).values())
        lines.append(f"{s['id']}  {s['status']:<7}  {kind(s):<36}  {total:>3} jobs  {s['created_at']}")
    if not lines:
        lines.append("no sweep")
    if page.get("next_cursor"):
        lines.append(f"older: descent sweeps --cursor {page['next_cursor']}")
    return lines
