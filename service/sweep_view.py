"""A sweep as the API shows it: its children ranked, and under cross-validation its candidates with
the mean and standard deviation of their folds' dev losses (API.md, "Model selection").

Read from the sweep record and its children's job records at each request: the children are
ordinary jobs, so nothing here can disagree with them.
"""

from __future__ import annotations

import math
from typing import Any

from descent.store import JobStatus
from descent.store.states import MISSING_CHILD, OPEN_STATUSES, SweepStatus

_INTERNAL = ("candidate", "_dev_metrics", "_epochs_run")
"""What `_job` keeps for the candidates, not shown in `jobs`."""


def resource(sweep: dict[str, Any], states: list[dict[str, Any]]) -> dict[str, Any]:
    """The sweep with its children's state, ranked by the sweep's metric (lower is better)."""
    request = sweep["request"]
    folds = (request.get("validation") or {}).get("folds")
    jobs = [_job(k, child, state, folds) for k, (child, state) in enumerate(zip(sweep["children"], states, strict=True))]
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job["status"]] = counts.get(job["status"], 0) + 1
    metric = sweep["metric"]
    ranked = sorted(
        (j for j in jobs if j["status"] == JobStatus.SUCCEEDED and j[metric] is not None and j.get("outcome") != "pruned"),
        key=lambda j: j[metric],
    )
    rest = [j for j in jobs if j not in ranked]
    open_jobs = sum(counts.get(status, 0) for status in OPEN_STATUSES)
    running = open_jobs or not jobs
    if "search" in request:
        running = not sweep.get("settled")
    doc = {
        "id": sweep["id"],
        "dataset_id": request["dataset_id"],
        "status": SweepStatus.RUNNING if running else SweepStatus.DONE,
        "ranked_by": metric,
        "best_job_id": ranked[0]["id"] if ranked else None,
        "counts": counts,
        "jobs": [{k: v for k, v in j.items() if k not in _INTERNAL} for j in ranked + rest],
        "base": request["base"],
        "grid": request["grid"],
        "created_at": sweep["created_at"],
    }
    if "search" in request:
        doc.update(_search_fields(sweep, jobs, ranked))
    if folds is not None:
        groups = _candidates(jobs, folds)
        doc["validation"] = {"folds": folds}
        doc["candidates"] = groups
        doc["best_overrides"] = groups[0]["overrides"] if groups and groups[0]["mean_dev_loss"] is not None else None
    return doc


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """A sweep in the list: the resource without its children and candidates."""
    return {k: v for k, v in doc.items() if k not in ("jobs", "candidates", "base", "grid", "space")}


def stalled(sweep: dict[str, Any], doc: dict[str, Any]) -> bool:
    """A search to advance before it is shown: it looks done (its last trials are then told to the
    study, and it is), or it has fewer children queued or running than it should (one ended and
    nobody started the next, or a started trial's job was never written: a process died between)."""
    request = sweep["request"]
    if "search" not in request or sweep.get("settled"):
        return False
    counts = doc["counts"]
    open_jobs = sum(counts.get(status, 0) for status in OPEN_STATUSES)
    parallel = min(request["search"].get("parallel", 4), _trials(request))
    started = len(sweep["children"])
    if not open_jobs and (sweep.get("cancelled") or started >= _trials(request)):
        return True  # looks done: the last trials are told to the study, then it is
    return not sweep.get("cancelled") and (counts.get(MISSING_CHILD, 0) > 0 or (open_jobs < parallel and started < _trials(request)))


def _trials(request: dict[str, Any]) -> int:
    return int(request["search"].get("trials", 30))


def _search_fields(sweep: dict[str, Any], jobs: list[dict[str, Any]], ranked: list[dict[str, Any]]) -> dict[str, Any]:
    """A search's own fields: how many trials started, were pruned, and the epochs pruning saved
    (each pruned trial's planned epochs less those it ran)."""
    base_epochs = sweep["request"]["base"].get("epochs", 100)
    pruned = [j for j in jobs if j.get("outcome") == "pruned"]
    saved = sum(int(j["overrides"].get("epochs", base_epochs)) - int(j["_epochs_run"] or 0) for j in pruned)
    return {
        "search": sweep["request"]["search"],
        "space": sweep["request"]["space"],
        "trials": {"started": len(jobs), "total": _trials(sweep["request"]), "pruned": len(pruned)},
        "epochs_saved": saved,
        "best_overrides": ranked[0]["overrides"] if ranked else None,
    }


def _job(index: int, child: dict[str, Any], state: dict[str, Any], folds: int | None) -> dict[str, Any]:
    result = state["result"] or {}
    job = {
        "id": child["id"],
        "overrides": child["overrides"],
        "status": state["status"],
        "train_loss": result.get("train_loss"),
        "dev_loss": result.get("dev_loss"),
        "seconds": result.get("seconds"),
        "error": state["error"],
        "candidate": child.get("candidate", index),
    }
    if folds is not None:
        job["fold"] = child.get("fold")
    if "trial" in child:
        job["trial"] = child["trial"]
    if state["status"] == JobStatus.SUCCEEDED and "outcome" in result:
        job["outcome"] = result["outcome"]
    job["_epochs_run"] = result.get("epochs_run")
    if "train_rows" in result:
        job["train_rows"] = result["train_rows"]
    job["_dev_metrics"] = ((result.get("metrics") or {}).get("dev")) or {}
    return job


def _candidates(jobs: list[dict[str, Any]], folds: int) -> list[dict[str, Any]]:
    """Each candidate's folds: mean and population standard deviation (numpy's default, as
    `scores.std()` after scikit-learn's cross_val_score) of their dev losses, and the mean of each
    dev metric — once every fold succeeded; ranked by the mean dev loss, unfinished ones last."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for job in jobs:
        groups.setdefault(job["candidate"], []).append(job)
    out = []
    for members in groups.values():
        members.sort(key=lambda j: j.get("fold") or 0)
        losses = [j["dev_loss"] for j in members if j["status"] == JobStatus.SUCCEEDED and j["dev_loss"] is not None]
        complete = len(losses) == folds
        mean = math.fsum(losses) / folds if complete else None
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in losses) / folds) if mean is not None else None
        out.append(
            {
                "overrides": members[0]["overrides"],
                "folds": folds,
                "succeeded": sum(j["status"] == JobStatus.SUCCEEDED for j in members),
                "mean_dev_loss": mean,
                "std_dev_loss": std,
                "metrics": _mean_metrics([j["_dev_metrics"] for j in members]) if complete else {},
                "job_ids": [j["id"] for j in members],
            }
        )
    out.sort(key=lambda c: (c["mean_dev_loss"] is None, c["mean_dev_loss"] or 0.0))
    return out


def _mean_metrics(per_fold: list[dict[str, Any]]) -> dict[str, float]:
    """The mean over the folds of each number every fold reports (a confusion matrix is left out)."""
    keys = set.intersection(*(set(m) for m in per_fold)) if per_fold else set()
    out = {}
    for key in sorted(keys):
        values = [m[key] for m in per_fold]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[key] = math.fsum(values) / len(values)
    return out
