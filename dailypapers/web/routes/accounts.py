"""Account pages: sign up, log in, log out, and the settings page (password, API tokens, sessions, deletion).

Plain HTML forms that work without JavaScript; every POST passes the security layer (CSRF, origin, body limit)
like any other unsafe route. A form with a mistake is shown again with the message and what was typed (never
the password). Log-in and sign-up are rate limited per client address (and log-in per account), in the
database, so every worker counts together. The JSON side (``/api/me``, ``/api/tokens``) is
:mod:`dailypapers.web.routes.account_api`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.errors import UserError
from dailypapers.web.deps import LibraryDep
from dailypapers.web.forms import safe_next
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.cookies import SESSION_COOKIE, clear_cookie, queue_cookie
from dailypapers.web.security.identity import current_user, identify
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.templating import render

router = APIRouter(tags=["accounts"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)

Text = Annotated[str, Form(max_length=300)]
Secret = Annotated[str, Form(max_length=2000)]  # longer than any password we accept: the service says why
NextField = Annotated[str, Form(alias="next", max_length=2000)]


def _back(next_url: str | None) -> str:
    try:
        return safe_next(next_url) if next_url else "/"
    except UserError:
        return "/"


def signed_in(request: Request, user: User, *, next_url: str | None) -> Response:
    """Start a session for ``user`` (ending any the browser had) and go on to ``next``."""
    library = request.app.state.library
    old = request.cookies.get(SESSION_COOKIE)
    secret = library.accounts.start_session(user, request.headers.get("user-agent", ""), replacing=old)
    queue_cookie(request, SESSION_COOKIE, secret, library.config.session_days * 24 * 3600)
    return RedirectResponse(_back(next_url), status_code=303)


# -- sign up and log in -------------------------------------------------------------------------------------------
@router.get("/signup", summary="The sign-up form")
def signup_page(request: Request, library: LibraryDep, invite: str = "", next: str = "") -> Response:
    return render(request, "signup.html", _signup_context(library, invite=invite[:200], next_url=next[:2000]))


def _signup_context(library: Any, **values: Any) -> dict[str, Any]:
    return {"mode": library.accounts.signup_mode, "open": library.accounts.signup_open(), **values}


@router.post("/signup", summary="Create an account (HTML form)")
def signup(
    request: Request,
    library: LibraryDep,
    username: Text,
    email: Text,
    password: Secret,
    invite: Text = "",
    next_url: NextField = "",
) -> Response:
    """A new account, signed in at once; the first account of an instance is its admin."""
    try:
        request.app.state.rate_limits.hit("signup", client_address(request), what="sign-ups from this address")
        user = library.accounts.create_user(username, email, password, invite=invite or None, via_signup=True)
    except UserError as exc:
        context = _signup_context(library, username=username, email=email, invite=invite, next_url=next_url)
        response = render(request, "signup.html", {**context, "error": exc.message}, status_code=exc.status)
        response.headers.update(exc.headers)
        return response
    # The cold start of recommendations: a new reader picks categories and keywords before any upvote.
    return signed_in(request, user, next_url=next_url or "/account/interests?welcome=1")


@router.get("/login", summary="The log-in form")
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next_url": next[:2000]})


@router.post("/login", summary="Log in (HTML form)")
def login(request: Request, library: LibraryDep, login: Text, password: Secret, next_url: NextField = "") -> Response:
    """Log in with username or email; a new session replaces any the browser had."""
    try:
        limits = request.app.state.rate_limits
        limits.hit("login", client_address(request), what="log-in attempts")
        limits.hit("login", "account", login.strip().lower(), what="log-in attempts for this account")
        user = library.accounts.authenticate(login, password)
    except UserError as exc:
        context = {"login": login, "next_url": next_url, "error": exc.message}
        response = render(request, "login.html", context, status_code=exc.status)
        response.headers.update(exc.headers)
        return response
    return signed_in(request, user, next_url=next_url)


@router.post("/logout", summary="Log out (HTML form)")
def logout(request: Request, library: LibraryDep) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        library.accounts.end_session(secret)
    clear_cookie(request, SESSION_COOKIE)
    return RedirectResponse("/", status_code=303)


# -- the settings page --------------------------------------------------------------------------------------------
def _account(request: Request, status: int = 200, **extra: Any) -> Response:
    ident = identify(request)
    assert ident.user is not None
    accounts = request.app.state.library.accounts
    context = {
        "user": ident.user,
        "tokens": accounts.tokens(ident.user),
        "sessions": accounts.sessions(ident.user),
        "current_session": ident.session.id if ident.session else None,
        **extra,
    }
    return render(request, "account.html", context, status_code=status)


@router.get("/account", summary="Account settings: password, API tokens, sessions")
def account_page(request: Request) -> Response:
    if current_user(request) is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    return _account(request)


def _account_action(request: Request, action: Any, done: str) -> Response:
    """Run ``action(user)`` for the signed-in user; show the settings page with ``done`` or the error."""
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    try:
        extra = action(user) or {}
    except UserError as exc:
        return _account(request, exc.status, error=exc.message)
    return _account(request, notice=done, **extra)


@router.post("/account/password", summary="Change the password (HTML form)")
def change_password(request: Request, library: LibraryDep, current: Secret, new: Secret) -> Response:
    ident = identify(request)
    keep = ident.session.id if ident.session else None
    return _account_action(
        request,
        lambda user: library.accounts.set_password(user, new, current=current, keep_session=keep),
        "Password changed; every other session was logged out.",
    )


@router.post("/account/tokens", summary="Create an API token (HTML form)")
def create_token(request: Request, library: LibraryDep, name: Text) -> Response:
    def make(user: User) -> dict[str, Any]:
        secret, token = library.accounts.create_token(user, name)
        return {"new_token": secret, "new_token_name": token.name}

    return _account_action(request, make, "Token created. Copy it now: it is shown only once.")


@router.post("/account/tokens/{token_id}/revoke", summary="Revoke an API token (HTML form)")
def revoke_token(request: Request, library: LibraryDep, token_id: str) -> Response:
    return _account_action(request, lambda user: library.accounts.revoke_token(user, token_id), "Token revoked.")


@router.post("/account/sessions/{session_id}/end", summary="Log out one session (HTML form)")
def end_session(request: Request, library: LibraryDep, session_id: str) -> Response:
    def end(user: User) -> None:
        library.accounts.end_sessions(user, only=session_id[:100])

    return _account_action(request, end, "That session was logged out.")


@router.post("/account/sessions/end-all", summary="Log out everywhere (HTML form)")
def end_all_sessions(request: Request, library: LibraryDep) -> Response:
    user = current_user(request)
    if user is not None:
        library.accounts.end_sessions(user)
    clear_cookie(request, SESSION_COOKIE)
    return RedirectResponse("/login", status_code=303)


@router.post("/account/invites", summary="Create an invite link (admins, HTML form)")
def create_invite(request: Request, library: LibraryDep) -> Response:
    def invite(user: User) -> dict[str, Any]:
        return {"invite_url": "/signup?invite=" + library.accounts.create_invite(user)}

    return _account_action(request, invite, "Invite created: send this link to the person you invite.")


@router.post("/account/delete", summary="Delete the account (HTML form)")
def delete_account(request: Request, library: LibraryDep, password: Secret) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    try:
        library.accounts.delete(user, password)
    except UserError as exc:
        return _account(request, exc.status, error=exc.message)
    clear_cookie(request, SESSION_COOKIE)
    return RedirectResponse("/", status_code=303)


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
