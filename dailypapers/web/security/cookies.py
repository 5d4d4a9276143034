"""Cookies set on the way out: code anywhere in a request queues a cookie, :class:`CookieMiddleware` writes it.

Every cookie of the site is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (browsers do not send it with
cross-site POSTs), ``Path=/``, and ``Secure`` when the request came over HTTPS (behind a TLS-terminating proxy,
run uvicorn with ``--proxy-headers`` so the scheme is the client's).
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from dailypapers.web.middleware import ResponseStartMiddleware

SESSION_COOKIE = "dp_session"
CSRF_COOKIE = "dp_csrf"
VOTER_COOKIE = "dp_voter"
YEAR = 365 * 24 * 3600
_QUEUE = "dailypapers_cookies"


def queue_cookie(request: Request, name: str, value: str, max_age: int) -> None:
    """Set cookie ``name`` on this request's response (``max_age`` 0 deletes it)."""
    flags = "; HttpOnly; SameSite=Lax" + ("; Secure" if request.url.scheme == "https" else "")
    request.scope.setdefault("state", {}).setdefault(_QUEUE, {})[name] = (
        f"{name}={value}; Max-Age={max_age}; Path=/{flags}"
    )


def clear_cookie(request: Request, name: str) -> None:
    queue_cookie(request, name, "", 0)


class CookieMiddleware(ResponseStartMiddleware):
    """Writes the cookies queued during the request into its response's headers."""

    def on_response_start(self, scope: Scope, headers: MutableHeaders) -> None:
        for cookie in scope.get("state", {}).get(_QUEUE, {}).values():
            headers.append("Set-Cookie", cookie)
