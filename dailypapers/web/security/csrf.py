"""CSRF and origin checks on every unsafe request, as one app-wide FastAPI dependency (:func:`protect`).

The token is a signed double-submit cookie bound to the session (OWASP's "signed double-submit cookie"): the
browser holds a random ``dp_csrf`` cookie; a page's forms carry ``HMAC(key, cookie value, session id)``. A
cross-site page can neither read the cookie nor compute the HMAC, and a cookie planted from elsewhere does not
match the victim's session. Forms send the token in the field ``csrf_token``; scripts in the header
``X-CSRF-Token``. Requests authenticated by an API token need none (see :mod:`.identity`).

Before the token, the origin: a request whose ``Origin`` (else ``Referer``) names another host than its ``Host``
is refused, as is ``Origin: null`` (a reverse proxy must pass the original ``Host`` on, e.g. nginx
``proxy_set_header Host $host``).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import Request

from dailypapers.errors import Forbidden
from dailypapers.web.security import signing
from dailypapers.web.security.cookies import CSRF_COOKIE, YEAR, queue_cookie
from dailypapers.web.security.identity import identify

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # RFC 9110 §9.2.1
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_EXEMPT: frozenset[str] = frozenset(
    {
        # RFC 8058 one-click unsubscribe: a mail client (or its provider's server) POSTs
        # "List-Unsubscribe=One-Click" with no cookie and no page, so no CSRF token can exist; the signed token in
        # the URL is the proof it comes from the email. Tested in tests/web/test_subscriptions_http.py.
        "/unsubscribe/one-click",
    }
)
"""Paths of unsafe routes that need no CSRF token (each entry needs a reason and a test)."""
_STATE = "dailypapers_csrf_cookie"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _cookie_value(request: Request, *, create: bool) -> str | None:
    state = request.scope.setdefault("state", {})
    value: str | None = state.get(_STATE) or request.cookies.get(CSRF_COOKIE)
    if (not value or len(value) > 100) and create:
        value = secrets.token_urlsafe(24)
        queue_cookie(request, CSRF_COOKIE, value, YEAR)
    if value:
        state[_STATE] = value
    return value


def _expected(request: Request, cookie: str) -> str:
    session = identify(request).session
    return signing.mac(request.app.state.library.secret_key, "csrf", cookie, session.id if session else "")


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser and session (sets the CSRF cookie on a first visit)."""
    cookie = _cookie_value(request, create=True)
    assert cookie is not None
    return _expected(request, cookie)


def check_origin(request: Request) -> None:
    """:class:`Forbidden` unless the request's ``Origin`` (else ``Referer``), when sent, names this host."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        netloc = ""
    if not netloc or netloc.lower() != request.headers.get("host", "").lower():
        raise Forbidden("Requests that change something are accepted only from pages of this site.")


async def protect(request: Request) -> None:
    """The app-wide dependency: on unsafe methods, the origin check, then the CSRF token unless exempt."""
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    if identify(request).via_token or request.url.path in CSRF_EXEMPT:
        return
    given = request.headers.get(CSRF_HEADER)
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if given is None and media in FORM_TYPES:
        field = (await request.form()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    cookie = _cookie_value(request, create=False)
    if not cookie or not given or not signing.same(given, _expected(request, cookie)):
        raise Forbidden(
            "The CSRF token is missing or wrong; reload the page and try again"
            f" (scripts: send the '{CSRF_HEADER}' header from GET /api/csrf, or an API token)."
        )
