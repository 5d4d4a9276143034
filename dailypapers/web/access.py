"""The access log and the request metrics: one line and one observation per answered HTTP request.

Replaces uvicorn's access log (``serve`` turns it off), which printed the whole address, secrets included: the
signed token of a confirm, manage or unsubscribe link, a private feed's token, an invite. Each line here carries the
request id (also answered as ``X-Request-Id``), the method, the address redacted by
:func:`dailypapers.ops.logs.redact_target` (secrets masked, a long query cut), the route template, the status, the
duration in milliseconds and the user id when the request was signed in — never an email address. With
``DAILYPAPERS_LOG_FORMAT=json`` the same fields are the JSON line's. The metrics count by route template (never by
raw path, whose values are unbounded) through :func:`dailypapers.ops.metrics.observe_request`.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.ops.logs import ACCESS_LOGGER, redact_target
from dailypapers.ops.metrics import observe_request
from dailypapers.web.security.identity import identified_user_id

log = logging.getLogger(ACCESS_LOGGER)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # a 404 for an address no route has: one label, whatever the address was


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/papers/{paper_id}``), :data:`UNMATCHED` when none matched."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    return str(path) if path else UNMATCHED


class AccessLogMiddleware:
    """Logs and measures every HTTP request when its answer has been sent (or when it failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what a failure before the response started becomes

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _record(scope, status, time.perf_counter() - start)


def _record(scope: Scope, status: int, seconds: float) -> None:
    method = scope.get("method", "GET") if scope.get("method") in METHODS else "OTHER"
    route = route_template(scope)
    observe_request(route, method, status, seconds)
    query = scope.get("query_string", b"").decode("latin-1")
    target = redact_target(scope.get("path", ""), query)
    fields = {
        "request_id": scope.get("state", {}).get("request_id", ""),
        "method": method,
        "path": target,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "user_id": identified_user_id(scope),
        "client": (scope.get("client") or ("", 0))[0],
    }
    ms, rid, user = fields["duration_ms"], fields["request_id"], fields["user_id"] or "-"
    log.info("%s %s %d %.1fms rid=%s user=%s", method, target, status, ms, rid, user, extra=fields)
