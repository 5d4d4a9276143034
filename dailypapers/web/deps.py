"""Dependencies every feature shares: the app's library, the shared rate limits, and who the caller must be.

A route asks for them in its signature (``library: LibraryDep``, ``Depends(require_admin)``); they read only what
:func:`dailypapers.web.app.create_app` put on ``app.state`` and what the security layer found out about the
caller (:mod:`dailypapers.web.security.identity`).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from dailypapers.accounts.models import User
from dailypapers.errors import Forbidden
from dailypapers.library import Library
from dailypapers.web.security.identity import current_user, require_user


def get_library(request: Request) -> Library:
    """The app's :class:`Library` (set by :func:`dailypapers.web.app.create_app`)."""
    library: Library = request.app.state.library
    return library


LibraryDep = Annotated[Library, Depends(get_library)]


def rate_limits(request: Request) -> Any:
    """The instance's named rate limits (counted in the database, so every worker counts together)."""
    return request.app.state.rate_limits


def login_redirect(back: str) -> RedirectResponse:
    """The 303 to the log-in page, which comes back to ``back`` (a path on this site, its fragment kept)."""
    return RedirectResponse("/login?next=" + quote(back, safe="/"), status_code=303)


def require_admin(request: Request) -> User:
    """The signed-in admin; :class:`~dailypapers.errors.Forbidden` (403) for anybody else."""
    user = current_user(request)
    if user is None or not user.is_admin:
        raise Forbidden("Only admins can moderate.")
    return user


def json_media(request: Request, what: str = "the request") -> None:
    """415 unless the body is sent as ``Content-Type: application/json``."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/json":
        raise HTTPException(415, f"Send {what} as JSON, with 'Content-Type: application/json'.")


def json_user(request: Request) -> User:
    """The caller of a JSON route: ``Content-Type: application/json`` (415 otherwise) and a signed-in user."""
    json_media(request)
    return require_user(request)


UserDep = Annotated[User, Depends(require_user)]
"""The signed-in user (401 for anybody else)."""
JsonUser = Annotated[User, Depends(json_user)]
"""The signed-in user of a JSON route (415 for a body that is not JSON, 401 for anybody else)."""
