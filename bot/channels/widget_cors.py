"""Cross-origin access to the widget's HTTP routes and socket: only for the origins configured
in credentials.yml (``cors_allowed_origins``); never ``*``. With none configured the widget works
only on pages served by the Rasa server itself (same origin). Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def cors_headers(origin: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """The CORS headers of a response to a request from ``origin``: none for an origin that
    is not configured. (The widget sends only simple requests: there is no preflight.)"""
    if not allowed:
        return {}
    headers = {"Vary": "Origin"}  # the answer depends on the Origin header: caches must know
    if origin is None or origin.lower() not in allowed:
        return headers
    headers["Access-Control-Allow-Origin"] = origin
    return headers


def same_origins(environ: Mapping[str, Any]) -> set[str]:
    """The origins of the server itself as the request reached it (its Host header, with the
    scheme it came in on or the one a proxy forwarded)."""
    host = environ.get("HTTP_HOST")
    if not isinstance(host, str) or not host:
        return set()
    schemes = {str(environ.get("wsgi.url_scheme") or "http")}
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO")
    if isinstance(forwarded, str) and forwarded:
        schemes.add(forwarded.split(",")[0].strip())
    return {f"{scheme}://{host}".lower() for scheme in schemes}


def socket_origin_check(allowed: tuple[str, ...]) -> Callable[[str | None, Mapping[str, Any]], bool]:
    """python-socketio's ``cors_allowed_origins`` callable: the server's own origin and the
    configured ones."""

    def check(origin: str | None, environ: Mapping[str, Any]) -> bool:
        if not origin:
            return False
        origin = origin.lower()
        return origin in allowed or origin in same_origins(environ)

    return check
