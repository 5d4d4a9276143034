"""The pages behind the links of account mails (issue 21 #11): ``/password/forgot`` (ask for a reset link),
``/password/reset`` (choose a new password by that link) and ``/account/email/verify`` (prove an address).

A GET never changes anything (mail scanners open every link of an email): the reset page shows a form, the
verification page one button, and the POST does the work (with CSRF, like every form). "Forgot password?" answers
one sentence whether or not an account has the address, and is rate limited per client address (the mails
themselves, per mailbox: :mod:`dailypapers.mail.account_mail`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from dailypapers.accounts.models import check_email
from dailypapers.errors import UserError
from dailypapers.web.deps import LibraryDep
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.cookies import SESSION_COOKIE, clear_cookie
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.templating import render

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
Text = Annotated[str, Form(max_length=300)]
Secret = Annotated[str, Form(max_length=2000)]
TokenField = Annotated[str, Form(max_length=2000, description="The signed token of the email's link.")]
TokenQuery = Annotated[str, Query(max_length=2000, description="The signed token of the email's link.")]
SENT = (
    "If an account has the address {email}, a link to choose a new password is on its way to it. The link works"
    " once, for {minutes} minutes."
)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return render(request, name, {"error": None, "notice": None, **context}, status_code=status)


def _refused(request: Request, name: str, exc: UserError, **context: Any) -> Response:
    response = _page(request, name, {**context, "error": exc.message}, exc.status)
    response.headers.update(exc.headers)
    return response


# -- forgot password ---------------------------------------------------------------------------------------------
@router.get("/password/forgot", tags=["accounts"], summary="Ask for a password-reset link")
def forgot_page(request: Request) -> Response:
    return _page(request, "password_forgot.html", {"email": ""})


@router.post("/password/forgot", tags=["accounts"], summary="Mail a password-reset link (HTML form)")
def forgot(request: Request, library: LibraryDep, email: Text) -> Response:
    """One answer whether or not an account has the address (only a malformed address is refused)."""
    try:
        request.app.state.rate_limits.hit("signup", client_address(request), what="reset requests from here")
        address = check_email(email)
    except UserError as exc:
        return _refused(request, "password_forgot.html", exc, email=email)
    sent = SENT.format(email=address, minutes=library.config.reset_minutes)
    page = _page(request, "password_forgot.html", {"email": "", "done": sent})
    # The look-up and the mail run in a background thread started once the page is made, so neither the answer
    # nor its timing tells whether an account has the address.
    library.account_mail.forgot_soon(address)
    return page


# -- reset by link -----------------------------------------------------------------------------------------------
@router.get("/password/reset", tags=["accounts"], summary="Choose a new password (by the link of a reset email)")
def reset_page(request: Request, library: LibraryDep, token: TokenQuery = "") -> Response:
    try:
        user = library.recovery.reset_user(token)
    except UserError as exc:
        return _refused(request, "password_reset.html", exc, token="", username="")
    return _page(request, "password_reset.html", {"token": token, "username": user.username})


@router.post("/password/reset", tags=["accounts"], summary="Set a new password by a reset link (HTML form)")
def reset(request: Request, library: LibraryDep, password: Secret, token: TokenField = "") -> Response:
    """The new password (the usual strength rules); every session ends and every API token is revoked."""
    try:
        user = library.recovery.reset_user(token)
    except UserError as exc:
        return _refused(request, "password_reset.html", exc, token="", username="")
    try:
        _, revoked = library.account_mail.reset(token, password)
    except UserError as exc:
        return _refused(request, "password_reset.html", exc, token=token, username=user.username)
    clear_cookie(request, SESSION_COOKIE)  # this browser's session (if any) ended with all the others
    tokens = f" and {revoked} API token{'s were' if revoked != 1 else ' was'} revoked" if revoked else ""
    notice = f"Your password was changed: every session was logged out{tokens}. Log in with the new password."
    return _page(request, "password_reset.html", {"token": "", "username": user.username, "done": notice})


# -- address verification ----------------------------------------------------------------------------------------
@router.get(
    "/account/email/verify", tags=["accounts"], summary="The verification page (a button; a GET changes nothing)"
)
def verify_page(request: Request, library: LibraryDep, token: TokenQuery = "") -> Response:
    try:
        _, email = library.recovery.read_verify(token)
    except UserError as exc:
        return _refused(request, "verify_email.html", exc, token="", email="")
    return _page(request, "verify_email.html", {"token": token, "email": email})


@router.post("/account/email/verify", tags=["accounts"], summary="Verify an account's address (HTML form)")
def verify(request: Request, library: LibraryDep, token: TokenField = "") -> Response:
    try:
        done = library.account_mail.verify(token)
    except UserError as exc:
        return _refused(request, "verify_email.html", exc, token="", email="")
    notice = f"{done.user.email} is verified: it is the address of the account {done.user.username}."
    return _page(request, "verify_email.html", {"token": "", "email": done.user.email, "done": notice})


allow_head(router)  # HEAD wherever GET
