"""Anonymous voters: a random id in a signed cookie, CSRF tokens bound to it, the origin check and a rate limit.

There are no accounts yet, so a voter is a browser: ``dp_voter`` holds ``<id>.<signature>``, where the id is
random (``secrets.token_urlsafe``) and the signature an HMAC-SHA256 of it under
:attr:`dailypapers.library.Library.secret_key` — ``DAILYPAPERS_SECRET_KEY``, or a key generated once and kept in
the database, so every worker and machine reads and writes the same cookies. The cookie is ``HttpOnly``,
``SameSite=Lax``, ``Secure`` over HTTPS, and set by :class:`VoterCookieMiddleware` on the response of the first
request that needed a voter (a page with vote buttons, ``GET /api/votes``, a vote). Nothing of it lives in worker
memory.

CSRF (every state-changing request; see :mod:`dailypapers.web.routes.votes`):

* the token is ``HMAC(secret, "csrf" + voter id)``: only this site can compute it and only a page of this site
  (or ``GET /api/votes``, which another origin cannot read) shows it;
* the HTML form sends it in the hidden field ``csrf_token``; the JSON API in the ``X-CSRF-Token`` header, and must
  be ``Content-Type: application/json`` (which a cross-site form cannot send);
* a request whose ``Origin`` (else ``Referer``) names another host than its ``Host`` header is refused, as is
  ``Origin: null`` (a reverse proxy must pass the original ``Host`` on, e.g. nginx ``proxy_set_header Host $host``);
* ``SameSite=Lax`` keeps browsers from sending the cookie with cross-site POSTs in the first place.

A wrong or missing token, a missing cookie or a foreign origin is a 403 in the site's error shape.

The rate limit (:class:`RateLimiter`, ``DAILYPAPERS_VOTE_RATE_LIMIT`` votes a minute per voter, 0 for none) is
counted by each worker process on its own, so it is approximate: with W workers a voter may get up to W times the
limit. It protects the database's writer from a runaway script; it cannot stop ballot stuffing, since an anonymous
voter can always drop the cookie and become a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from dailypapers.papers.models import Paper
from dailypapers.web.middleware import ResponseStartMiddleware

COOKIE = "dp_voter"
COOKIE_MAX_AGE = 365 * 24 * 3600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_STATE_KEY = "dailypapers_voter"


def _mac(secret: str, purpose: str, voter_id: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}\0{voter_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, voter_id: str) -> str:
    """The cookie value for ``voter_id``."""
    return f"{voter_id}.{_mac(secret, 'voter', voter_id)}"


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of a value from the request with the expected one (any text, no exceptions)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def unsign(secret: str, value: str | None) -> str | None:
    """The voter id in a cookie value, or ``None`` when it is missing or its signature is wrong."""
    voter_id, _, signature = (value or "").rpartition(".")
    if not voter_id or not same(signature, _mac(secret, "voter", voter_id)):
        return None
    return voter_id


@dataclass(frozen=True)
class Voter:
    """The voter of a request: its id, its CSRF token, and whether the cookie is new (to be set on the response)."""

    id: str
    token: str
    new: bool = False


def _secret(request: Request) -> str:
    key: str = request.app.state.library.secret_key
    return key


def cookie_voter(request: Request) -> Voter | None:
    """The voter named by a validly signed cookie, or ``None`` (a first visit, a forged or outdated cookie)."""
    secret = _secret(request)
    voter_id = unsign(secret, request.cookies.get(COOKIE))
    return Voter(voter_id, _mac(secret, "csrf", voter_id)) if voter_id else None


def current_voter(request: Request) -> Voter:
    """The request's voter; a new one (cookie set on the response) when the request has no valid cookie."""
    voter: Voter | None = request.scope.setdefault("state", {}).get(_STATE_KEY)
    if voter is None:
        voter = cookie_voter(request)
        if voter is None:
            voter_id = secrets.token_urlsafe(18)
            voter = Voter(voter_id, _mac(_secret(request), "csrf", voter_id), new=True)
        request.scope["state"][_STATE_KEY] = voter
    return voter


def check_origin(request: Request) -> None:
    """403 unless the request's ``Origin`` (else ``Referer``), when sent, names this host."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        netloc = ""
    if not netloc or netloc.lower() != request.headers.get("host", "").lower():
        raise HTTPException(403, "Votes are accepted only from pages of this site.")


def verified_voter(request: Request, token: str | None) -> Voter:
    """The cookie's voter if ``token`` is its CSRF token; 403 otherwise (also for a foreign origin)."""
    check_origin(request)
    voter = cookie_voter(request)
    if voter is None:
        raise HTTPException(
            403, f"Voting needs the '{COOKIE}' cookie and its CSRF token; load a page of this site (or GET /api/votes)."
        )
    if not token or not same(token, voter.token):
        raise HTTPException(403, "The CSRF token is missing or wrong; reload the page and try again.")
    return voter


class VoterCookieMiddleware(ResponseStartMiddleware):
    """Sets the voter cookie on responses to requests that created a new voter."""

    def on_response_start(self, scope: Scope, headers: MutableHeaders) -> None:
        voter: Voter | None = scope.get("state", {}).get(_STATE_KEY)
        if voter is not None and voter.new:
            secret = scope["app"].state.library.secret_key
            flags = "; HttpOnly; SameSite=Lax" + ("; Secure" if scope.get("scheme") == "https" else "")
            cookie = f"{COOKIE}={sign(secret, voter.id)}; Max-Age={COOKIE_MAX_AGE}; Path=/{flags}"
            headers.append("Set-Cookie", cookie)


@dataclass
class VoteButtons:
    """What the templates need to draw vote buttons (``vote_button`` in ``_macros.html``): the voter's CSRF token and
    the keys of the papers on the page that the voter has upvoted (their buttons show as pressed)."""

    token: str
    voted: set[int] = field(default_factory=set)


def vote_buttons(request: Request, papers: list[Paper]) -> VoteButtons:
    """Vote buttons for ``papers`` (a returning voter's votes among them are looked up in one query)."""
    voter = current_voter(request)
    pks = [p.pk for p in papers if p.pk is not None]
    voted = request.app.state.library.store.voted(voter.id, pks) if pks and not voter.new else set()
    return VoteButtons(voter.token, voted)


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key, counted in this process (a sliding log per key)."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one event for ``key``; ``None`` when allowed, else the seconds until the next one would be."""
        if self.limit <= 0:  # no limit
            return None
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque(maxlen=self.limit))
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return self.window - (now - events[0])
            events.append(now)
            if len(self._events) > self.max_keys:
                self._forget(now)
            return None

    def _forget(self, now: float) -> None:
        """Drop keys whose events are all older than the window (keeps memory bounded)."""
        for key in [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.window]:
            del self._events[key]
