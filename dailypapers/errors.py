"""The errors a user can cause, and the one a database can: what becomes a 4xx (or 503), and nothing else does.

A :class:`UserError` carries a sentence meant for the person who made the request and the HTTP status it maps
to. The web layer answers it as a 4xx in the site's one error shape; the CLI prints it as a one-line message.
Any other exception is a bug: the web layer logs it with a request id and answers 500 without its text (a
``ValueError`` from deep inside is *not* "your request was wrong").
"""

from __future__ import annotations

from collections.abc import Mapping


class UserError(Exception):
    """A request that cannot be served as asked; ``str(error)`` is the sentence shown to the user."""

    status = 400

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class BadInput(UserError):
    """A parameter, form field or record that is malformed or out of range (400)."""

    status = 400


class NotSignedIn(UserError):
    """The action needs a signed-in user (401)."""

    status = 401


class Forbidden(UserError):
    """The user (or anonymous caller) may not do this (403): a missing CSRF token, a foreign origin, a role."""

    status = 403


class NotFound(UserError):
    """No such paper, user, token or page (404)."""

    status = 404


class Conflict(UserError):
    """The request clashes with what is stored: a taken username, an already used invite (409)."""

    status = 409


class RateLimited(UserError):
    """Too many requests of this kind from this caller (429); ``retry_after`` seconds until the next is allowed."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class StoreError(RuntimeError):
    """A storage failure with a message meant for the operator (bad URL, unreachable database, bad migration);
    the web layer answers 503 and logs the message, which may name hosts and files."""
