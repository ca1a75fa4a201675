"""descent as scikit-learn estimators: `DescentRegressor` and `DescentClassifier`.

    from descent.sklearn import DescentClassifier
    clf = DescentClassifier(model="mlp", hidden=[16], epochs=50).fit(X_train, y_train)
    clf.predict_proba(X_test); clf.score(X_test, y_test)

Why estimators: a notebook's tools — cross_val_score, GridSearchCV, Pipeline — then train on a
descent server with no code of their own. `fit` uploads X and y (a DataFrame as Parquet, its
categories and missing values kept; a numpy array as numbers), submits one job with the
estimator's parameters and waits for it (a progress bar in a terminal or notebook when tqdm is
there); `predict` sends rows to the job's `/predict`. Each parameter is a job field (`lr` is
`optimizer.lr`, `dev` is `split.dev`; `job_options` takes any other field as the API spells it),
so `get_params`/`set_params` and clones work as scikit-learn expects. The server is DESCENT_URL
(default http://localhost:8000) unless `url` is given; DESCENT_API_KEY likewise. Needs
scikit-learn and pandas: `pip install 'descent[sklearn]'`.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d, validate_data

from .client import TERMINAL, ApiError, Client
from .client_data import is_dataframe
from .settings import ClientSettings

BATCH_OPTIMIZERS = ("minibatch", "momentum", "adam")
WAIT_SECONDS = 15.0
"""How long one `GET /v1/jobs/{id}?wait=` of `fit` may be held (it is answered as the job ends)."""
BAR_SECONDS = 0.25
"""How often the progress bar, when shown, is brought up to date."""


class FitFailed(RuntimeError):
    """The job did not succeed: its status and error, as the API reports them."""


class _DescentEstimator(BaseEstimator):
    """The parameters and the fit both estimators share."""

    _loss: str | None = None

    def __init__(
        self,
        *,
        model: str = "linear",
        hidden: list[int] | None = None,
        activation: str | None = None,
        bias: bool = True,
        loss: str | None = None,
        optimizer: str = "adam",
        lr: float | str = 0.01,
        batch_size: int | None = 32,
        momentum: float | None = None,
        epochs: int = 100,
        tolerance: float = 1e-7,
        dev: float = 0.0,
        standardize: bool = True,
        seed: int = 0,
        features: dict[str, Any] | None = None,
        job_options: dict[str, Any] | None = None,
        url: str | None = None,
        api_key: str | None = None,
        progress: bool | None = None,
        timeout: float = 3600.0,
    ) -> None:
        self.model = model
        self.hidden = hidden
        self.activation = activation
        self.bias = bias
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.momentum = momentum
        self.epochs = epochs
        self.tolerance = tolerance
        self.dev = dev
        self.standardize = standardize
        self.seed = seed
        self.features = features
        self.job_options = job_options
        self.url = url
        self.api_key = api_key
        self.progress = progress
        self.timeout = timeout

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing cells are imputed by the job's preprocessing
        tags.non_deterministic = False
        return tags

    # -- the job ----------------------------------------------------------------------------------
    def job_request(self, dataset_id: str, loss: str) -> dict[str, Any]:
        """The job this estimator's parameters make, for a dataset: what `fit` submits."""
        model: dict[str, Any] = {"type": self.model}
        if self.model == "mlp":
            model.update({k: v for k, v in (("hidden", self.hidden), ("activation", self.activation)) if v is not None})
        else:
            model["bias"] = self.bias
        optimizer: dict[str, Any] = {"type": self.optimizer, "lr": self.lr}
        if self.optimizer in BATCH_OPTIMIZERS and self.batch_size is not None:
            optimizer["batch_size"] = self.batch_size
        if self.optimizer == "momentum" and self.momentum is not None:
            optimizer["momentum"] = self.momentum
        request: dict[str, Any] = {
            "dataset_id": dataset_id,
            "model": model,
            "loss": loss,
            "optimizer": optimizer,
            "epochs": self.epochs,
            "tolerance": self.tolerance,
            "split": {"dev": self.dev},
            "standardize": self.standardize,
            "seed": self.seed,
        }
        if self.features is not None:
            request["features"] = self.features
        request.update(self.job_options or {})
        return request

    def _client(self) -> Client:
        settings = ClientSettings.from_env()  # DESCENT_URL and DESCENT_API_KEY, as the CLI reads them
        return Client(self.url or settings.url, self.api_key or settings.api_key or None)

    def _validated(self, X: Any, y: Any, regressor: bool) -> tuple[Any, np.ndarray]:
        """X and y checked as scikit-learn checks them: an array through validate_data (missing
        cells allowed), a DataFrame as it is (its categories and datetimes are the server's to read)."""
        if not is_dataframe(X):
            return validate_data(self, X, y, ensure_all_finite="allow-nan", y_numeric=regressor, ensure_min_samples=2)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        if len(X) < 2:
            raise ValueError(f"Found {len(X)} sample(s) while a minimum of 2 is required")
        self.n_features_in_ = X.shape[1]
        if all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return X, y

    def _fit(self, X: Any, y: np.ndarray, loss: str) -> None:
        client = self._client()
        frame = _frame(X)
        target = "target" if "target" not in frame.columns else "__target__"
        dataset = client.upload(frame, target=target, y=pd.Series(y, name=target))
        job = client.submit(self.job_request(dataset["id"], loss))
        self.dataset_id_ = dataset["id"]
        self.job_id_ = job["id"]
        self.job_ = self._wait(client, job["id"])
        if self.job_["status"] != "succeeded":
            error = self.job_.get("error") or {}
            raise FitFailed(f"job {job['id']} {self.job_['status']}: {error.get('message', 'no result')}")
        self.result_ = self.job_["result"]

    def _wait(self, client: Client, job_id: str) -> dict[str, Any]:
        """The job once it has ended; a progress bar meanwhile when asked (or in a terminal)."""
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        bar = _bar(job_id) if show else None
        deadline = time.monotonic() + self.timeout
        interval = 0.01
        try:
            while True:
                asked = time.monotonic()
                # answered as the job ends (or when the bar is due, or at the deadline)
                wait = min(BAR_SECONDS if bar is not None else WAIT_SECONDS, max(0.0, deadline - asked))
                job = client.job(job_id, wait=wait)
                if bar is not None:
                    bar.n = round(100 * float(job["progress"].get("fraction") or 0.0), 1)
                    bar.refresh()
                if job["status"] in TERMINAL:
                    return job
                if time.monotonic() > deadline:
                    client.cancel(job_id)
                    raise FitFailed(f"job {job_id} did not end within {self.timeout} s; cancelled")
                if time.monotonic() - asked < wait / 2:  # answered early: the server had no wait free
                    time.sleep(interval)
                    interval = min(0.25, interval * 1.5)
        finally:
            if bar is not None:
                bar.close()

    def _predicted(self, X: Any) -> dict[str, Any]:
        check_is_fitted(self, "job_id_")
        if not is_dataframe(X):
            X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input")
        try:
            return self._client().predict(self.job_id_, _frame(X))
        except ApiError as exc:
            raise ValueError(exc.line()) from None

    @property
    def coef_(self) -> np.ndarray:
        """A linear model's weights on the encoded features, in original units."""
        weights = np.asarray(self._linear()["weights"], dtype=np.float64)
        return weights.reshape(1, -1) if isinstance(self, DescentClassifier) and weights.ndim == 1 else weights

    @property
    def intercept_(self) -> Any:
        bias = np.asarray(self._linear()["bias"], dtype=np.float64)
        return bias.reshape(-1) if isinstance(self, DescentClassifier) else float(bias)

    def _linear(self) -> dict[str, Any]:
        check_is_fitted(self, "job_id_")
        params = self.result_["params"]
        if not isinstance(params, dict):
            raise AttributeError("coef_ and intercept_ are a linear model's; this model is an MLP")
        return params


class DescentRegressor(RegressorMixin, _DescentEstimator):
    """A regressor trained on a descent server (loss `mse` unless `loss` says mae or huber)."""

    def fit(self, X: Any, y: Any) -> DescentRegressor:
        X, y = self._validated(X, y, regressor=True)
        self._fit(X, np.asarray(y, dtype=np.float64), self.loss or "mse")
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self._predicted(X)["y"], dtype=np.float64)


class DescentClassifier(ClassifierMixin, _DescentEstimator):
    """A classifier trained on a descent server: `bce` for two classes, `cross_entropy` for more
    (unless `loss` says which). `classes_` are y's sorted values, the columns of predict_proba."""

    def fit(self, X: Any, y: Any) -> DescentClassifier:
        X, y = self._validated(X, y, regressor=False)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError(f"a classifier needs at least 2 classes in y; it has {self.classes_.size}")
        loss = self.loss or ("bce" if self.classes_.size == 2 else "cross_entropy")
        self._fit(X, y, loss)
        served = self.result_.get("classes") or []
        if len(served) != self.classes_.size:
            raise FitFailed(f"the job learned {len(served)} classes; y has {self.classes_.size}")
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        probability = np.asarray(self._predicted(X)["probability"], dtype=np.float64)
        if probability.ndim == 1:  # bce: P(second class)
            return np.column_stack([1.0 - probability, probability])
        return probability

    def predict(self, X: Any) -> np.ndarray:
        probability = self.predict_proba(X)  # checks the fit first
        return self.classes_[np.argmax(probability, axis=1)]


def _frame(X: Any) -> pd.DataFrame:
    """X as a DataFrame: as it is, or an array's columns named x0, x1, … (NaN: a missing cell)."""
    if is_dataframe(X):
        return X
    table = np.asarray(X, dtype=np.float64)
    return pd.DataFrame(table, columns=[f"x{j}" for j in range(table.shape[1])])


def _bar(job_id: str) -> Any:
    """A tqdm bar (notebook or terminal), or None without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=100, desc=job_id[:12], unit="%", leave=False)
