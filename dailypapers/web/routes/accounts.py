"""Account pages: sign up, log in, log out, and the settings page (password, API tokens, sessions, deletion).
A password change logs out every other session and revokes every API token; the page says so before and after.

Plain HTML forms that work without JavaScript; every POST passes the security layer (CSRF, origin, body limit)
like any other unsafe route. A form with a mistake is shown again with the message and what was typed (never
the password). Log-in and sign-up are rate limited per client address, and wrong passwords per (account,
client) and per account from unknown clients (:mod:`dailypapers.accounts.login_limits`), in the database, so every
worker counts together. A successful log-in sets a signed *known-device* cookie: from that browser, the owner's
right password is never refused because strangers guessed (issue 21 #13).

The address: sign-up mails a verification link (:mod:`dailypapers.mail.account_mail`); the settings page shows
whether the address is verified, sends the link again, and changes the address (which takes effect when the link
sent to the new one is opened). Forgotten passwords and the links themselves: :mod:`.account_email`.

The JSON side: ``GET /api/me`` (who you are, and your CSRF token), ``GET /api/csrf`` and API tokens
(``/api/tokens``). Tokens are made, listed and revoked by a signed-in user — through a session (with its CSRF token,
like every unsafe cookie request) or with another API token. A new token's secret is in the creation response only.
``/api/me`` is no twin of ``/account`` (it shows neither tokens nor sessions, and answers a visitor too), so each is
a plain route.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.accounts.models import ApiToken, User
from dailypapers.errors import UserError
from dailypapers.web.deps import LibraryDep, UserDep, login_redirect
from dailypapers.web.forms import NextField, safe_next
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.cookies import SESSION_COOKIE, clear_cookie, queue_cookie
from dailypapers.web.security.csrf import CSRF_HEADER, csrf_token
from dailypapers.web.security.identity import current_user, identify
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.security.signing import sign, unsign
from dailypapers.web.templating import public_url, render

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=HTMLResponse)

Text = Annotated[str, Form(max_length=300)]
Secret = Annotated[str, Form(max_length=2000)]  # longer than any password we accept: the service says why
JSON: dict[str, Any] = {"tags": ["api"], "response_class": JSONResponse}  # the options of every JSON route
DEVICE_COOKIE = "dp_device"  # "<user id>.<device id>", signed: the browser this account logged in from before
DEVICE_DAYS = 365


def _device(request: Request) -> tuple[str, str] | None:
    """``(user id, device id)`` of the request's known-device cookie, if it carries a valid one."""
    value = unsign(request.app.state.library.secret_key, "device", request.cookies.get(DEVICE_COOKIE))
    user_id, _, device_id = (value or "").partition(".")
    return (user_id, device_id) if user_id and device_id else None


def _remember_device(request: Request, user: User) -> None:
    known = _device(request)
    device_id = known[1] if known and known[0] == user.id else secrets.token_urlsafe(12)
    value = sign(request.app.state.library.secret_key, "device", f"{user.id}.{device_id}")
    queue_cookie(request, DEVICE_COOKIE, value, DEVICE_DAYS * 24 * 3600)


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
    _remember_device(request, user)
    return RedirectResponse(_back(next_url), status_code=303)


# -- sign up and log in -------------------------------------------------------------------------------------------
@router.get("/signup", tags=["accounts"], summary="The sign-up form")
def signup_page(request: Request, library: LibraryDep, invite: str = "", next: str = "") -> Response:
    return render(request, "signup.html", _signup_context(library, invite=invite[:200], next_url=next[:2000]))


def _signup_context(library: Any, **values: Any) -> dict[str, Any]:
    return {"mode": library.accounts.signup_mode, "open": library.accounts.signup_open(), **values}


@router.post("/signup", tags=["accounts"], summary="Create an account (HTML form)")
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
        library.account_mail.send_verification(user)  # nothing else is mailed to the address until it is used
    except UserError as exc:
        context = _signup_context(library, username=username, email=email, invite=invite, next_url=next_url)
        response = render(request, "signup.html", {**context, "error": exc.message}, status_code=exc.status)
        response.headers.update(exc.headers)
        return response
    # The cold start of recommendations: a new reader picks categories and keywords before any upvote.
    return signed_in(request, user, next_url=next_url or "/account/interests?welcome=1")


@router.get("/login", tags=["accounts"], summary="The log-in form")
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next_url": next[:2000]})


@router.post("/login", tags=["accounts"], summary="Log in (HTML form)")
def login(request: Request, library: LibraryDep, login: Text, password: Secret, next_url: NextField = "") -> Response:
    """Log in with username or email; a new session replaces any the browser had."""
    try:
        address = client_address(request)
        request.app.state.rate_limits.hit("login", address, what="log-in attempts")
        user = library.accounts.authenticate(login, password, client=address, device=_device(request))
    except UserError as exc:
        context = {"login": login, "next_url": next_url, "error": exc.message}
        response = render(request, "login.html", context, status_code=exc.status)
        response.headers.update(exc.headers)
        return response
    return signed_in(request, user, next_url=next_url)


@router.post("/logout", tags=["accounts"], summary="Log out (HTML form)")
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
    user = accounts.by_id(ident.user.id) or ident.user  # with what a form of this request changed
    context = {
        "user": user,
        "tokens": accounts.tokens(ident.user),
        "sessions": accounts.sessions(ident.user),
        "current_session": ident.session.id if ident.session else None,
        **extra,
    }
    return render(request, "account.html", context, status_code=status)


@router.get("/account", tags=["accounts"], summary="Account settings: password, API tokens, sessions")
def account_page(request: Request) -> Response:
    if current_user(request) is None:
        return login_redirect("/account")
    return _account(request)


def _account_action(request: Request, action: Any, done: str) -> Response:
    """Run ``action(user)`` for the signed-in user; show the settings page with ``done`` or the error."""
    user = current_user(request)
    if user is None:
        return login_redirect("/account")
    try:
        extra = action(user) or {}
    except UserError as exc:
        return _account(request, exc.status, error=exc.message)
    return _account(request, **{"notice": done, **extra})  # an action may word the notice itself


@router.post("/account/password", tags=["accounts"], summary="Change the password (HTML form)")
def change_password(request: Request, library: LibraryDep, current: Secret, new: Secret) -> Response:
    ident = identify(request)
    keep = ident.session.id if ident.session else None

    def change(user: User) -> dict[str, Any]:
        revoked = library.accounts.set_password(user, new, current=current, keep_session=keep)
        library.account_mail.password_changed(user)
        notice = "Password changed; every other session was logged out"
        if revoked:  # a token made with the old password must not outlive it (issue 21 #22)
            tokens = "1 API token was revoked" if revoked == 1 else f"{revoked} API tokens were revoked"
            return {"notice": f"{notice} and {tokens}: make new ones for your scripts."}
        return {"notice": f"{notice}."}

    return _account_action(request, change, "Password changed.")


@router.post("/account/email", tags=["accounts"], summary="Change the account's address (HTML form)")
def change_email(request: Request, library: LibraryDep, email: Text, password: Secret) -> Response:
    def change(user: User) -> dict[str, Any]:
        changed = library.account_mail.change_address(user, email, password)
        return {"notice": f"A link is on its way to {changed.pending_email}: it becomes your address when you open"
                          " it. Until then your address stays as it is."}  # fmt: skip

    return _account_action(request, change, "")


@router.post("/account/email/resend", tags=["accounts"], summary="Send the verification link again (HTML form)")
def resend_verification(request: Request, library: LibraryDep) -> Response:
    def resend(user: User) -> dict[str, Any]:
        request.app.state.rate_limits.hit("signup", client_address(request), what="verification mails from here")
        to = user.pending_email or user.email
        sent = library.account_mail.resend(user)
        if sent:
            return {"notice": f"A verification link is on its way to {to}."}
        return {"notice": f"A verification link was sent to {to} a few minutes ago; check that mailbox (and its"
                          " spam folder), or ask again later."}  # fmt: skip

    return _account_action(request, resend, "")


@router.post("/account/tokens", tags=["accounts"], summary="Create an API token (HTML form)")
def create_token(request: Request, library: LibraryDep, name: Text) -> Response:
    def make(user: User) -> dict[str, Any]:
        secret, token = library.accounts.create_token(user, name)
        return {"new_token": secret, "new_token_name": token.name}

    return _account_action(request, make, "Token created. Copy it now: it is shown only once.")


@router.post("/account/tokens/{token_id}/revoke", tags=["accounts"], summary="Revoke an API token (HTML form)")
def revoke_token(request: Request, library: LibraryDep, token_id: str) -> Response:
    return _account_action(request, lambda user: library.accounts.revoke_token(user, token_id), "Token revoked.")


@router.post("/account/sessions/{session_id}/end", tags=["accounts"], summary="Log out one session (HTML form)")
def end_session(request: Request, library: LibraryDep, session_id: str) -> Response:
    def end(user: User) -> None:
        library.accounts.end_sessions(user, only=session_id[:100])

    return _account_action(request, end, "That session was logged out.")


@router.post("/account/sessions/end-all", tags=["accounts"], summary="Log out everywhere (HTML form)")
def end_all_sessions(request: Request, library: LibraryDep) -> Response:
    user = current_user(request)
    if user is not None:
        library.accounts.end_sessions(user)
    clear_cookie(request, SESSION_COOKIE)
    return RedirectResponse("/login", status_code=303)


@router.post("/account/invites", tags=["accounts"], summary="Create an invite link (admins, HTML form)")
def create_invite(request: Request, library: LibraryDep) -> Response:
    def invite(user: User) -> dict[str, Any]:
        # absolute (DAILYPAPERS_PUBLIC_URL, else a trusted host): the link is copied into a mail or a chat
        return {"invite_url": public_url(request, "/signup?invite=" + library.accounts.create_invite(user))}

    return _account_action(request, invite, "Invite created: send this link to the person you invite.")


@router.post("/account/delete", tags=["accounts"], summary="Delete the account (HTML form)")
def delete_account(request: Request, library: LibraryDep, password: Secret) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect("/account")
    try:
        library.accounts.delete(user, password)
    except UserError as exc:
        return _account(request, exc.status, error=exc.message)
    clear_cookie(request, SESSION_COOKIE)
    return RedirectResponse("/", status_code=303)


# -- JSON: who you are, the CSRF token, API tokens -------------------------------------------------------------
class UserOut(BaseModel):
    username: str
    role: str
    created_at: datetime


class MeOut(BaseModel):
    ok: Literal[True] = True
    user: UserOut | None = Field(description="The signed-in user, or null.")
    csrf_token: str = Field(description=f"For the `{CSRF_HEADER}` header of unsafe requests with this session.")


class CsrfOut(BaseModel):
    ok: Literal[True] = True
    csrf_token: str


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenListOut(BaseModel):
    ok: Literal[True] = True
    tokens: list[TokenOut]


class NewTokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="What the token is for (shown in your list).")


class NewTokenOut(TokenOut):
    ok: Literal[True] = True
    token: str = Field(description="The secret: send it as `Authorization: Bearer <token>`. Shown only now.")


def _user_out(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"username": user.username, "role": user.role, "created_at": user.created_at}


def _token_out(token: ApiToken) -> dict[str, Any]:
    return {k: getattr(token, k) for k in ("id", "name", "created_at", "last_used_at", "revoked_at")}


@router.get("/api/me", response_model=MeOut, **JSON, summary="Who you are signed in as, and your CSRF token")
def me(request: Request) -> dict[str, Any]:
    return {"ok": True, "user": _user_out(current_user(request)), "csrf_token": csrf_token(request)}


@router.get(
    "/api/csrf", response_model=CsrfOut, **JSON, summary="Your CSRF token (sets the CSRF cookie on a first visit)"
)
def csrf(request: Request) -> dict[str, Any]:
    return {"ok": True, "csrf_token": csrf_token(request)}


@router.get("/api/tokens", response_model=TokenListOut, **JSON, summary="Your API tokens (never their secrets)")
def list_tokens(library: LibraryDep, user: UserDep) -> dict[str, Any]:
    return {"ok": True, "tokens": [_token_out(t) for t in library.accounts.tokens(user)]}


@router.post("/api/tokens", response_model=NewTokenOut, status_code=201, **JSON, summary="Create an API token")
def api_create_token(library: LibraryDep, user: UserDep, body: NewTokenIn) -> dict[str, Any]:
    secret, token = library.accounts.create_token(user, body.name)
    return {"ok": True, "token": secret, **_token_out(token)}


@router.delete("/api/tokens/{token_id}", response_model=CsrfOut, **JSON, summary="Revoke an API token")
def api_revoke_token(
    request: Request, library: LibraryDep, user: UserDep, token_id: Annotated[str, Path(max_length=50)]
) -> dict[str, Any]:
    library.accounts.revoke_token(user, token_id)
    return {"ok": True, "csrf_token": csrf_token(request)}


allow_head(router)  # HEAD wherever GET
