"""Email subscription pages: ``/subscribe`` (the form), ``/subscribe/confirm`` and ``/unsubscribe`` (a page with a
button, then its POST), RFC 8058's ``POST /unsubscribe/one-click``, the preferences pages ``/subscription/manage``
(by signed link) and ``/account/subscription`` (signed in), and the JSON side: ``POST /api/subscriptions`` (the
form's twin, one helper) and ``GET|PATCH /api/subscriptions/me``. ``/account/subscription`` and
``GET /api/subscriptions/me`` are one view (:func:`my_subscription`, registered by :func:`dailypapers.web.views.view`):
a visitor is sent to log in (the JSON: 401), a user without an active subscription to ``/subscribe`` (the JSON shows
what there is, or null).

A GET never changes anything: mail scanners and link previews fetch every link of an email, so confirming and
unsubscribing take a button press (a POST with the token in the form, and CSRF like every form). The one exception
is the one-click POST a mail client sends for its own unsubscribe button (RFC 8058 §3: no cookie, no page, body
``List-Unsubscribe=One-Click``): it is exempt from CSRF (``CSRF_EXEMPT``), because the signed token in its URL is
what proves it comes from the email; that URL opened in a browser (a GET) shows the unsubscribe page.
Subscribing answers the same sentence whatever state the address is in, so the form tells a stranger nothing
(:mod:`dailypapers.mail.subscriptions` keeps the mail count down too), and is rate limited per client address
(``subscribe_rate_limit``).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.errors import BadInput, NotSignedIn, UserError
from dailypapers.library import Library
from dailypapers.mail.addresses import check_address
from dailypapers.mail.digest import ACCOUNT_SECTIONS
from dailypapers.mail.links import PATHS
from dailypapers.mail.subscriptions import DEFAULT_SECTIONS, FREQUENCIES, SECTIONS, AlreadyDone, Subscription
from dailypapers.web.deps import LibraryDep, login_redirect
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.templating import render
from dailypapers.web.views import Html, Json, view

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
API: dict[str, Any] = {"tags": ["api"], "response_class": JSONResponse}  # the options of every JSON route
MINE = "/account/subscription"
SIGN_IN = "Sign in (or send an API token) to see your subscription."

ONE_CLICK_BODY = "List-Unsubscribe=One-Click"  # RFC 8058 §3.1
SENT = (
    "Check your inbox: if {email} can receive mail, a message with a confirmation link is on its way. Nothing is"
    " sent to it until the link is used."
)
SECTION_LABELS = {
    "trending": "Trending papers",
    "picks": "Picks for you, with the reason for each (needs an account)",
    "saved": "New papers matching your saved searches (needs an account)",
    "categories": "New papers in the categories below",
}
# Form limits well above the service's, so that its sentence ("at most 254 characters") is what the user reads.
Field = Annotated[str, Form(max_length=2000)]
TokenField = Annotated[str, Form(max_length=2000, description="The signed token of the email's link.")]
TokenQuery = Annotated[str, Query(max_length=2000, description="The signed token of the email's link.")]
Sections = Annotated[list[str], Form(max_length=10, description="Sections of the digest (checkboxes).")]
Weekends = Annotated[bool, Form(description="Daily digests on Saturday and Sunday too (a checkbox).")]


def _preferences(
    frequency: Field = "daily",
    time_zone: Field = "",
    send_hour: Field = "7",
    weekends: Weekends = False,
    sections: Sections = [],  # noqa: B006  (FastAPI copies a default; none checked is an error the service words)
    categories: Field = "",
) -> dict[str, Any]:
    """The preference fields every subscription form has (subscribe, the signed manage link, the account page),
    as the service's keyword arguments; the service checks them."""
    return dict(frequency=frequency, time_zone=time_zone, send_hour=send_hour, weekends=weekends,
                sections=sections, categories=categories)  # fmt: skip


Preferences = Annotated[dict[str, Any], Depends(_preferences)]


def _form_values(library: Library, user: User | None, sub: Subscription | None = None) -> dict[str, Any]:
    """What a subscription form shows first: ``sub``'s choices, else the instance's defaults."""
    c = library.config
    if sub is not None:
        return dict(email=sub.email, frequency=sub.frequency, time_zone=sub.time_zone, send_hour=sub.send_hour,
                    weekends=sub.weekends, sections=sub.sections, categories=" ".join(sub.categories))  # fmt: skip
    return dict(email=user.email if user else "", frequency="daily", time_zone=c.time_zone, send_hour=7,
                weekends=c.digest_weekends, sections=DEFAULT_SECTIONS, categories="")  # fmt: skip


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return render(request, name, _with_choices(context), status_code=status)


def _with_choices(context: dict[str, Any]) -> dict[str, Any]:
    """``context`` with what every subscription form offers (sections, frequencies) and no message."""
    base = {"sections_all": SECTIONS, "section_labels": SECTION_LABELS, "frequencies": FREQUENCIES,
            "account_sections": ACCOUNT_SECTIONS, "error": None, "notice": None}  # fmt: skip
    return {**base, **context}


def _step(request: Request, title: str, message: str, status: int = 200, **form: Any) -> Response:
    """A one-message page, optionally with one button (``action``, ``token``, ``button``) or links."""
    context = {"title": title, "message": message, "action": None, "token": "", "button": "", "links": [],
               "refused": False, **form}  # fmt: skip
    return render(request, "subscribe_done.html", context, status_code=status)


def _refused(request: Request, exc: UserError) -> Response:
    title = "Already done" if isinstance(exc, AlreadyDone) else "This link does not work"
    response = _step(request, title, exc.message, exc.status, links=[("Subscribe", "/subscribe")], refused=True)
    response.headers.update(exc.headers)
    return response


def _link(library: Library, purpose: str, sub: Subscription) -> str:
    """A site-relative link with a fresh signed token (the page is already on this site)."""
    kind = "unsubscribe" if purpose == "one_click" else purpose
    return PATHS[purpose] + "?token=" + quote(library.links.token(kind, sub), safe="")  # type: ignore[arg-type]


def _owner_of(user: User | None, email: str) -> str | None:
    """The signed-in user's id when ``email`` is their account's *verified* address (only then does the
    subscription belong to the account); else ``None`` (a subscription managed through its emails' links). An
    unverified address proves nothing: anyone can sign up with a stranger's address (issue 21 #12)."""
    if user is None or not user.email_verified:
        return None
    try:
        return user.id if check_address(email).lower() == user.email.lower() else None
    except BadInput:
        return None


def _subscribe(request: Request, library: Library, email: str, **preferences: Any) -> str:
    """Subscribe ``email`` (rate limited per client address): the form's and the JSON's one helper. Returns the
    sentence that answers it, the same whatever state the address was in."""
    request.app.state.rate_limits.hit("subscribe", client_address(request), what="subscription requests")
    library.subscriptions.subscribe(email, user_id=_owner_of(current_user(request), email), **preferences)
    return SENT.format(email=check_address(email))


# -- subscribing ---------------------------------------------------------------------------------------------------
@router.get("/subscribe", tags=["subscriptions"], summary="The subscription form")
def subscribe_page(request: Request, library: LibraryDep) -> Response:
    user = current_user(request)
    mine = library.subscriptions.for_user(user.id) if user else None
    return _page(request, "subscribe.html", {"values": _form_values(library, user), "mine": mine})


@router.post("/subscribe", tags=["subscriptions"], summary="Subscribe (HTML form): sends a confirmation email")
def subscribe(
    request: Request,
    library: LibraryDep,
    email: Field,
    preferences: Preferences,
) -> Response:
    values = {**preferences, "time_zone": preferences["time_zone"] or library.config.time_zone}
    try:
        sent = _subscribe(request, library, email, **values)
    except UserError as exc:
        context = {"values": {**values, "email": email}, "mine": None, "error": exc.message}
        response = _page(request, "subscribe.html", context, exc.status)
        response.headers.update(exc.headers)
        return response
    return _step(request, "Check your inbox", sent)


@router.get(
    "/subscribe/confirm", tags=["subscriptions"], summary="The confirmation page (a button; a GET changes nothing)"
)
def confirm_page(request: Request, library: LibraryDep, token: TokenQuery = "") -> Response:
    try:
        sub = library.subscriptions.from_link(token, "confirm")
    except UserError as exc:
        return _refused(request, exc)
    message = f"Press the button to start the {sub.frequency} digest to {sub.email}."
    return _step(request, "Confirm your subscription", message, action="/subscribe/confirm", token=token,
                 button="Confirm")  # fmt: skip


@router.post("/subscribe/confirm", tags=["subscriptions"], summary="Confirm a subscription (HTML form)")
def confirm(request: Request, library: LibraryDep, token: TokenField = "") -> Response:
    try:
        sub = library.subscriptions.confirm(token)
    except UserError as exc:
        return _refused(request, exc)
    message = f"You are subscribed: the {sub.frequency} digest will come to {sub.email}."
    links = [("Choose what it brings", _link(library, "manage", sub))]
    return _step(request, "Subscribed", message, links=links)


# -- unsubscribing -------------------------------------------------------------------------------------------------
@router.get("/unsubscribe", tags=["subscriptions"], summary="The unsubscribe page (a button; a GET changes nothing)")
@router.get(
    PATHS["one_click"],
    tags=["subscriptions"],
    summary="The List-Unsubscribe URL opened in a browser: the unsubscribe page (a button; a GET changes nothing)",
)
def unsubscribe_page(request: Request, library: LibraryDep, token: TokenQuery = "") -> Response:
    try:
        sub = library.subscriptions.from_link(token, "unsubscribe")
    except UserError as exc:
        return _refused(request, exc)
    message = f"Press the button and no more digests will be sent to {sub.email}."
    # The List-Unsubscribe URL's token is an unsubscribe token: its page is this one, and its button posts the
    # form of /unsubscribe (with the CSRF token, like every form); only a mail client's RFC 8058 POST needs none.
    return _step(request, "Unsubscribe", message, action=PATHS["unsubscribe"], token=token, button="Unsubscribe")


@router.post("/unsubscribe", tags=["subscriptions"], summary="Unsubscribe (HTML form)")
def unsubscribe(request: Request, library: LibraryDep, token: TokenField = "") -> Response:
    try:
        sub = library.subscriptions.unsubscribe(token)
    except UserError as exc:
        return _refused(request, exc)
    message = f"You are unsubscribed: no more digests will be sent to {sub.email}."
    return _step(request, "Unsubscribed", message, links=[("Subscribe again", "/subscribe")])


@router.post(
    PATHS["one_click"],
    tags=["subscriptions"],
    summary="One-click unsubscribe (RFC 8058): what a mail client's button POSTs; no cookie, no CSRF token",
    response_class=JSONResponse,
)
def one_click(
    library: LibraryDep,
    token: TokenQuery = "",
    value: Annotated[str, Form(alias="List-Unsubscribe", max_length=100)] = "",
) -> Response:
    """Unsubscribe from a digest's ``List-Unsubscribe`` header; sending it again answers the same."""
    if value != "One-Click":
        raise BadInput(f"A one-click unsubscribe is a POST whose body is '{ONE_CLICK_BODY}' (RFC 8058).")
    with suppress(AlreadyDone):  # a mail client may send it twice; the answer stays "done"
        library.subscriptions.unsubscribe(token)
    return JSONResponse({"ok": True, "unsubscribed": True})


# -- preferences ---------------------------------------------------------------------------------------------------
def _manage_context(
    library: Library, sub: Subscription, *, action: str, token: str = "", **extra: Any
) -> dict[str, Any]:
    """The preferences page of ``sub``, whose form posts to ``action`` (with the link's ``token``, if any)."""
    context = {
        "sub": sub,
        "values": _form_values(library, None, sub),
        "action": action,
        "token": token,
        "unsubscribe_url": _link(library, "unsubscribe", sub) if sub.is_active else "",
        **extra,
    }
    return _with_choices(context)


def _manage(request: Request, library: Library, sub: Subscription, *, action: str, token: str = "",
            status: int = 200, **extra: Any) -> Response:  # fmt: skip
    context = _manage_context(library, sub, action=action, token=token, **extra)
    return render(request, "subscription.html", context, status_code=status)


def _save(request: Request, library: Library, sub: Subscription, changes: dict[str, Any], **where: Any) -> Response:
    """Apply ``changes`` and show the page again, with "saved" or with what was wrong (and what was typed)."""
    try:
        sub = library.subscriptions.update(sub.id, **changes)
    except UserError as exc:
        page = _manage(request, library, sub, status=exc.status, error=exc.message, **where)
        return page
    return _manage(request, library, sub, notice="Saved.", **where)


@router.get(
    "/subscription/manage", tags=["subscriptions"], summary="A subscriber's preferences, by the signed link of an email"
)
def manage_page(request: Request, library: LibraryDep, token: TokenQuery = "") -> Response:
    try:
        sub = library.subscriptions.from_link(token, "manage")
    except UserError as exc:
        return _refused(request, exc)
    return _manage(request, library, sub, action=PATHS["manage"], token=token)


@router.post(
    "/subscription/manage", tags=["subscriptions"], summary="Change a subscriber's preferences (HTML form, signed link)"
)
def manage(
    request: Request,
    library: LibraryDep,
    preferences: Preferences,
    token: TokenField = "",
) -> Response:
    try:
        sub = library.subscriptions.from_link(token, "manage")
    except UserError as exc:
        return _refused(request, exc)
    return _save(request, library, sub, preferences, action=PATHS["manage"], token=token)


# -- the signed-in user's subscription: the page and its JSON twin, one view -----------------------------------------
def subscription_json(sub: Subscription) -> dict[str, Any]:
    """What the signed-in owner sees of a subscription (never the nonce)."""
    return {
        "id": sub.id, "email": sub.email, "status": sub.status, "frequency": sub.frequency,
        "time_zone": sub.time_zone, "send_hour": sub.send_hour, "weekends": sub.weekends,
        "sections": list(sub.sections), "categories": list(sub.categories),
        "created_at": sub.created_at.isoformat(),
        "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
    }  # fmt: skip


JsonBody = Annotated[dict[str, Any], Body(description="A JSON object: `email` and any preferences.")]
API_FIELDS = ("email", "frequency", "time_zone", "send_hour", "weekends", "sections", "categories")


@dataclass
class Mine:
    """The signed-in user's subscription: ``user`` None for a visitor, ``sub`` None when they have none."""

    user: User | None
    sub: Subscription | None


def _mine_page(request: Request, mine: Mine) -> dict[str, Any] | Response:
    if mine.user is None:
        return login_redirect(MINE)
    if mine.sub is None or mine.sub.status in ("unsubscribed", "disabled"):
        return RedirectResponse("/subscribe", status_code=303)
    return _manage_context(request.app.state.library, mine.sub, action=MINE)


def _mine_json(request: Request, mine: Mine) -> dict[str, Any]:
    if mine.user is None:
        raise NotSignedIn(SIGN_IN)
    return {"subscription": subscription_json(mine.sub) if mine.sub else None}


@view(
    router,
    Html(MINE, "subscription.html", _mine_page, summary="The signed-in user's email digest"),
    Json("/api/subscriptions/me", dict[str, Any], _mine_json,
         summary="The signed-in user's subscription (null when none)", response_class=JSONResponse),
)  # fmt: skip
def my_subscription(request: Request, library: LibraryDep) -> Mine:
    """The signed-in user's digest and its preferences (an API token works for the JSON). On the page, a visitor
    is sent to log in and a user without an active subscription to `/subscribe`; the JSON answers 401 and shows
    any subscription, whatever its status (null when none)."""
    user = current_user(request)
    return Mine(user, library.subscriptions.for_user(user.id) if user else None)


@router.post("/account/subscription", tags=["subscriptions"], summary="Change the signed-in user's digest (HTML form)")
def account_subscription(
    request: Request,
    library: LibraryDep,
    preferences: Preferences,
) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(MINE)
    sub = library.subscriptions.for_user(user.id)
    if sub is None:
        return RedirectResponse("/subscribe", status_code=303)
    return _save(request, library, sub, preferences, action=MINE)


# -- JSON ----------------------------------------------------------------------------------------------------------
@router.post("/api/subscriptions", **API, status_code=202, summary="Subscribe: a confirmation email is sent")
def api_subscribe(request: Request, library: LibraryDep, body: JsonBody) -> dict[str, Any]:
    """Always the same answer for a well-formed request (whether the address was known is not told)."""
    unknown = sorted(set(body) - set(API_FIELDS))
    if unknown:
        raise BadInput(f"'{unknown[0][:40]}' is not a subscription field; use {', '.join(API_FIELDS)}.")
    email = body.get("email")
    if not isinstance(email, str):
        raise BadInput("'email' is required: the address the digest goes to.")
    fields = {k: v for k, v in body.items() if k != "email"}
    return {"ok": True, "message": _subscribe(request, library, email, **fields)}


@router.patch("/api/subscriptions/me", **API, summary="Change the signed-in user's subscription preferences")
def api_update(request: Request, library: LibraryDep, body: JsonBody) -> dict[str, Any]:
    user = current_user(request)
    if user is None:
        raise NotSignedIn(SIGN_IN)
    sub = library.subscriptions.for_user(user.id)
    if sub is None:
        raise BadInput("You have no subscription; POST /api/subscriptions first.")
    return {"subscription": subscription_json(library.subscriptions.update(sub.id, **body))}


allow_head(router)
