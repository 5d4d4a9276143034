"""Who is asking: an API token, else a session cookie, else nobody — looked up once per request.

``Authorization: Bearer dp_…`` names an API token; a request that sends one is judged by it alone (its cookies
are ignored), and an unknown or revoked token is a 401, never a silent fall-back to the cookie. Otherwise the
``dp_session`` cookie names a server-side session (:mod:`dailypapers.accounts.service`). An anonymous voter
(``dp_voter``, a random id signed under the instance key) exists only when ``DAILYPAPERS_ANONYMOUS_VOTES`` is on.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from dailypapers.accounts.models import Session, User
from dailypapers.errors import NotSignedIn
from dailypapers.web.security import signing
from dailypapers.web.security.cookies import SESSION_COOKIE, VOTER_COOKIE, YEAR, queue_cookie

_STATE = "dailypapers_identity"


@dataclass(frozen=True)
class Identity:
    """The caller of a request: a user (with the session, or the token, that proved it), or nobody."""

    user: User | None = None
    session: Session | None = None
    via_token: bool = False


def identify(request: Request) -> Identity:
    """The request's :class:`Identity` (cached on the request)."""
    state = request.scope.setdefault("state", {})
    found: Identity | None = state.get(_STATE)
    if found is None:
        found = state[_STATE] = _lookup(request)
    return found


def _lookup(request: Request) -> Identity:
    accounts = request.app.state.library.accounts
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        user = accounts.token_user(credentials.strip())
        if user is None:
            raise NotSignedIn("The API token is unknown, revoked, or its user is disabled.")
        return Identity(user=user, via_token=True)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        found = accounts.session_user(secret)
        if found:
            return Identity(user=found[1], session=found[0])
    return Identity()


def identified_user_id(scope: MutableMapping[str, Any]) -> str | None:
    """The id of the user a request was identified as, if it was (no lookup: the access log names the user of a
    request that needed to know, never makes one look)."""
    found = scope.get("state", {}).get(_STATE)
    return found.user.id if isinstance(found, Identity) and found.user is not None else None


def current_user(request: Request) -> User | None:
    return identify(request).user


def require_user(request: Request) -> User:
    """The signed-in user; :class:`NotSignedIn` (401) for anybody else."""
    user = identify(request).user
    if user is None:
        raise NotSignedIn("Sign in first: this needs an account.")
    return user


def voter_id(request: Request, *, create: bool) -> str | None:
    """The votes-table key of the caller: the user's, else (anonymous votes on) the browser's anonymous id, made
    and set as a cookie when ``create``; None when the caller may not vote."""
    user = identify(request).user
    if user is not None:
        return user.voter
    library = request.app.state.library
    if not library.config.anonymous_votes:
        return None
    secret = library.secret_key
    anonymous = signing.unsign(secret, "voter", request.cookies.get(VOTER_COOKIE))
    if anonymous is None and create:
        anonymous = secrets.token_urlsafe(18)  # letters, digits, - and _: never a colon, unlike "user:…"
        queue_cookie(request, VOTER_COOKIE, signing.sign(secret, "voter", anonymous), YEAR)
    return anonymous
