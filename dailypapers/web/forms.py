"""What HTML forms share: where a form goes back to (``next``, checked so no route is an open redirect) and the
form fields several features declare alike."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Form
from fastapi.responses import RedirectResponse

from dailypapers.community.comments import MAX_REASON
from dailypapers.web.errors import BadRequest
from dailypapers.web.security.csrf import CSRF_FIELD

NextField = Annotated[str, Form(alias="next", max_length=2000, description="Where to go back to: a path on this site.")]
OptionalNextField = Annotated[
    str | None, Form(alias="next", max_length=2000, description="Where to go back to: a path on this site.")
]
ReasonField = Annotated[str, Form(max_length=4 * MAX_REASON, description="Why (shown to admins only).")]
CsrfField = Annotated[str, Form(alias=CSRF_FIELD, max_length=200, description="The form's CSRF token.")]


def safe_next(value: str) -> str:
    """``value`` if it is a path on this site (``/…``, not ``//host`` or ``/\\host``); 400 otherwise."""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    unsafe = (
        parts is None
        or parts.scheme
        or parts.netloc
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    )
    if unsafe:
        raise BadRequest("'next' must be a path on this site, starting with a single '/'.")
    return value


def next_or(next_url: str | None, default: str) -> str:
    """Where a form goes back to: ``next`` when given (checked by :func:`safe_next`), else ``default``."""
    return safe_next(next_url) if next_url else default


def back_to(next_url: str | None, default: str) -> RedirectResponse:
    """The 303 that sends a form back to :func:`next_or`'s place."""
    return RedirectResponse(next_or(next_url, default), status_code=303)
