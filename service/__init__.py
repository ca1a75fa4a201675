"""descent's HTTP API. `create_app()` builds it; gunicorn serves ``service:create_app()``.

Never imports torch: the API validates, stores and enqueues; workers train.
"""

from .app import create_app

__all__ = ["create_app"]
