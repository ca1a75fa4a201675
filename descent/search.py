"""A searching sweep's trials: an Optuna study in Redis, advanced by whichever process sees a trial
end (API.md, "Model selection").

Why no coordinator process: each trial is an ordinary child job. When a child ends, its worker
`advance`s the search: under the sweep's lock it tells the study how every ended trial went (its
dev loss, pruned, or failed) and starts trials until `parallel` run or `trials` were started. The
API advances it when the sweep starts, and when it is read with fewer children running than it
should have (a process died between two steps). Every step can be repeated: a trial's job id
comes from the sweep and the trial's number, a started trial whose job is missing is created
again, a told trial is not told twice — so a search goes on from its study through any process's
death, and nothing is chosen twice. Workers report each epoch's dev loss to the trial (`Pruning`),
and a pruner's verdict ends the child early with outcome "pruned".

Samplers are seeded per trial from the search's seed and the trial's number: each process builds
its own sampler, and a seed restarted in every process would draw the same values again.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
import optuna
from optuna.storages import JournalStorage
from optuna.trial import TrialState
from redis.exceptions import LockError

from descent.overrides import child_request
from descent.queue import enqueue_training
from descent.search_space import Search, parse
from descent.settings import Settings
from descent.spec import DatasetFacts, JobRequest, job_errors
from descent.store import JobStatus, OpenJobsLimit, Store
from descent.store.states import MISSING_CHILD, OPEN_STATUSES
from descent.store.study import StudyJournal

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)


def search_of(sweep: dict[str, Any], settings: Settings) -> Search | None:
    """The sweep's parsed search; None for a grid sweep."""
    request = sweep["request"]
    if "search" not in request:
        return None
    search, errors = parse(request["search"], request["space"], settings.max_sweep_children)
    if search is None:
        raise ValueError(f"sweep {sweep['id']}: a stored search that does not parse: {errors}")
    return search


def trial_job_id(sweep_id: str, number: int) -> str:
    """A trial's child job id: the same in every process that starts it."""
    return "job_" + hashlib.sha256(f"{sweep_id}:{number}".encode()).hexdigest()[:32]


class Searcher:
    """The studies of searching sweeps, over one store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store, self.settings = store, settings

    def study(self, sweep: dict[str, Any], search: Search) -> optuna.Study:
        """The sweep's study, created on first use, with its sampler seeded for the next trial."""
        storage = JournalStorage(StudyJournal(self.store.redis, sweep["id"], self.store.sweeps.ttl))
        study = optuna.create_study(
            storage=storage, study_name=sweep["id"], direction="minimize", load_if_exists=True, pruner=_pruner(search, sweep)
        )
        seed = int(np.random.SeedSequence([search.seed, len(study.trials)]).generate_state(1)[0])
        if search.method == "tpe":
            study.sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True, n_startup_trials=min(10, search.trials // 4 or 1))
        else:
            study.sampler = optuna.samplers.RandomSampler(seed=seed)
        return study

    def advance(self, sweep_id: str, wait: float | None = 30.0) -> bool:
        """Tell the study of ended trials and start new ones; False when another process held the
        lock for longer than `wait` seconds (it is doing the same)."""
        sweep = self.store.sweeps.record(sweep_id)
        if sweep is None or "search" not in sweep["request"]:
            return True  # a grid sweep (or gone): nothing to advance, no lock taken
        lock = self.store.sweeps.lock(sweep_id, blocking_timeout=wait)
        if not lock.acquire():
            return False
        try:
            sweep = self.store.sweeps.record(sweep_id)
            search = None if sweep is None else search_of(sweep, self.settings)
            if sweep is not None and search is not None:
                self._advance(sweep, search)
        except SearchPaused:
            log.info("sweep %s: its tenant is at DESCENT_MAX_OPEN_JOBS; the next trials wait", sweep_id)
        finally:
            try:
                lock.release()
            except LockError:  # expired while held: the next holder redoes the same
                log.warning("sweep %s: its lock expired while held", sweep_id)
        return True

    def _advance(self, sweep: dict[str, Any], search: Search) -> None:
        study = self.study(sweep, search)
        trials = {t.number: t for t in study.get_trials(deepcopy=False)}
        children = sweep["children"]
        states = self.store.sweeps.children([c["id"] for c in children])
        running = 0
        for child, state in zip(children, states, strict=True):
            trial = trials.get(child["trial"])
            if trial is None or trial.state != TrialState.RUNNING:
                continue
            if state["status"] == MISSING_CHILD:  # started, and its job never written
                if self._submit(sweep, child, search):
                    running += 1
                    continue
                study.tell(child["trial"], state=TrialState.FAIL, skip_if_finished=True)
            elif state["status"] in OPEN_STATUSES:
                running += 1
            else:
                self._tell(study, child["trial"], state, sweep["metric"])
        while not sweep["cancelled"] and running < search.parallel and len(children) < search.trials:
            trial = study.ask()
            child = {"id": trial_job_id(sweep["id"], trial.number), "trial": trial.number, "overrides": search.overrides(trial)}
            children.append(child)
            self.store.sweeps.set_children(sweep["id"], children)
            if self._submit(sweep, child, search):
                running += 1
            else:
                study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        if not running and (sweep["cancelled"] or len(children) >= search.trials):
            self.store.sweeps.mark_settled(sweep["id"])  # every trial ended and told: the search is done

    def _tell(self, study: optuna.Study, number: int, state: dict[str, Any], metric: str) -> None:
        result = state["result"] or {}
        if state["status"] == JobStatus.SUCCEEDED and result.get("outcome") == "pruned":
            study.tell(number, state=TrialState.PRUNED, skip_if_finished=True)
        elif state["status"] == JobStatus.SUCCEEDED and result.get(metric) is not None:
            study.tell(number, float(result[metric]), skip_if_finished=True)
        else:
            study.tell(number, state=TrialState.FAIL, skip_if_finished=True)

    def _submit(self, sweep: dict[str, Any], child: dict[str, Any], search: Search) -> bool:
        """Create and queue a trial's job (again, if it went missing); False when it cannot be a
        job (the dataset is gone, or these overrides break a rule the corners kept)."""
        config = self.child_config(sweep, child["overrides"])
        if config is None:
            return False
        try:
            job = self.store.jobs.create(
                sweep["tenant"], child["id"], config, sweep_id=sweep["id"], max_open=self.settings.max_open_jobs
            )
        except OpenJobsLimit:
            raise SearchPaused(sweep["id"]) from None
        if job is None:
            return False
        enqueue_training(
            self.store.redis, self.settings.queue_name, sweep["tenant"], child["id"], int(config["max_runtime_seconds"])
        )
        return True

    def child_config(self, sweep: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any] | None:
        """The stored config of a child with `overrides`; None when it would not be a valid job."""
        request = sweep["request"]
        dataset = self.store.datasets.get(sweep["tenant"], request["dataset_id"])
        if dataset is None:
            return None
        try:
            job = JobRequest.model_validate(child_request(request["base"], request["dataset_id"], overrides))
        except ValueError:
            return None
        if job_errors(job, DatasetFacts.of(dataset), self.settings):
            return None
        return job.resolve(self.settings.max_history_points).model_dump()


class SearchPaused(Exception):
    """The tenant is at DESCENT_MAX_OPEN_JOBS: the search starts its next trials when it is read
    or when one of its children ends."""


class Pruning:
    """A child's link to its trial: each epoch's dev loss reported, the pruner's verdict read."""

    def __init__(self, study: optuna.Study, number: int) -> None:
        trial_id = next(t._trial_id for t in study.get_trials(deepcopy=False) if t.number == number)
        self.trial = optuna.trial.Trial(study, trial_id)

    @classmethod
    def of(cls, searcher: Searcher, sweep_id: str, job_id: str) -> Pruning | None:
        """The link for job `job_id` when it is a trial of a search with a pruner, else None."""
        sweep = searcher.store.sweeps.record(sweep_id)
        search = None if sweep is None else search_of(sweep, searcher.settings)
        if sweep is None or search is None or search.pruner == "none":
            return None
        child = next((c for c in sweep["children"] if c["id"] == job_id), None)
        return None if child is None else cls(searcher.study(sweep, search), child["trial"])

    def should_stop(self, epoch: int, value: float | None) -> bool:
        """Report `value` (the epoch's dev loss) at `epoch`; True when the pruner says stop."""
        if value is None or not np.isfinite(value):
            return False
        self.trial.report(float(value), epoch)
        return bool(self.trial.should_prune())


def _pruner(search: Search, sweep: dict[str, Any]) -> optuna.pruners.BasePruner:
    """The search's pruner; Hyperband's largest resource is the most epochs a child can have."""
    if search.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if search.pruner == "hyperband":
        epochs = [sweep["request"]["base"].get("epochs", 100)]
        epochs += [v for d in search.space if d.path == "epochs" for v in d.corners()]
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=int(max(epochs)), reduction_factor=3)
    return optuna.pruners.NopPruner()
