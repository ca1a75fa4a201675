"""The Flask application factory: settings, JSON, the store, error handling, blueprints."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import JSONProvider
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from descent.settings import Settings
from descent.store import Store, connect

from . import auth, body_limit, dataset_records, errors, metrics, upload_body, upload_slots

log = logging.getLogger("descent.api")

API_REDIS_OPTIONS = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 1.5,
    "retry": Retry(ExponentialBackoff(cap=0.1, base=0.02), 1),
}
"""A request waits at most about two seconds for Redis, then the client gets a 503 to retry."""


class OrjsonProvider(JSONProvider):
    """orjson writes NaN and ±Infinity as null: no response can carry tokens JSON does not have."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an app. `config` may carry ``SETTINGS`` (a `Settings`) and plain Flask keys."""
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    settings: Settings = (config or {}).get("SETTINGS") or Settings.from_env()
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
    )
    if config:
        app.config.update(config)
    redis = connect(settings.redis_url, **API_REDIS_OPTIONS)
    app.extensions["descent.redis"] = redis
    app.extensions["descent.store"] = Store(redis, settings.retention_seconds, settings.idempotency_seconds)
    errors.init_app(app)
    metrics.init_app(app)
    auth.init_app(app, settings.api_keys)
    # before_request hooks run in this order: an upload takes its turn after auth (and after the
    # tenant's limits, at the door: a paced tenant never waits for a slot), before its body is read
    upload_slots.init_app(app)
    body_limit.init_app(app)
    upload_body.init_app(app)
    dataset_records.init_app(app)

    from .dashboard import bp as dashboard_bp
    from .datasets import bp as datasets_bp
    from .events import bp as events_bp
    from .events import init_app as init_events
    from .job_waits import init_app as init_end_waits
    from .jobs import bp as jobs_bp
    from .ops import bp as ops_bp
    from .sweeps import bp as sweeps_bp
    from .trained import bp as trained_bp

    app.register_blueprint(datasets_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(trained_bp)
    app.register_blueprint(events_bp)
    init_events(app)
    init_end_waits(app)
    app.register_blueprint(sweeps_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(dashboard_bp)

    from .door import Door
    from .fast_polls import FastPolls

    app.wsgi_app = FastPolls(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = Door(app, app.wsgi_app)  # type: ignore[method-assign]  # in front: refusals cost least
    _warn_under_a_bare_gunicorn()
    return app


def _warn_under_a_bare_gunicorn() -> None:
    """`gunicorn 'service:create_app()'` serves with gunicorn's defaults wherever no gunicorn.conf.py
    is found (one sync worker on 127.0.0.1:8000), without a word: say so, and what to run instead."""
    if "gunicorn" not in sys.argv[0]:  # `gunicorn ...` or `python -m gunicorn ...`
        return
    from . import server

    if not server.STARTED:
        log.warning(
            "started by gunicorn directly: descent's server settings (DESCENT_BIND, DESCENT_API_PROCESSES, "
            "DESCENT_API_THREADS, logging, merged metrics) are not applied; run `python -m service`"
        )
