"""GET /: the dashboard, one static page whose ES modules and stylesheet live in static/dashboard/.

Everything it loads comes from this app (no CDN), which the Content-Security-Policy enforces; the
page itself is public and asks for an API key only when /v1 answers 401.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

bp = Blueprint("dashboard", __name__)

DASHBOARD_DIR = Path(__file__).resolve().parent / "static" / "dashboard"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@bp.get("/")
def index() -> Response:
    response = send_from_directory(DASHBOARD_DIR, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
