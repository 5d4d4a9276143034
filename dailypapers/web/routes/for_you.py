"""The "For you" page and its twins: ``/for-you`` (HTML) and ``/api/for-you`` (JSON; API tokens work), one view
(:func:`for_you`) registered by :func:`dailypapers.web.views.view`; the private Atom feed
``/feeds/for-you/{token}.atom``; the interests form ``/account/interests``; and "Not for me":
``POST /papers/{id}/not-for-me`` (a form that works without JavaScript and goes back to ``next``) and
``POST``/``DELETE /api/feedback/{paper id}`` (JSON).

The page, its JSON and the feed show the same picks (:data:`PICKS` unless ``limit`` says otherwise); a visitor who
is not signed in gets a page that asks to log in, and the JSON answers 401. The feed's token is a secret in the
URL (only its SHA-256 is stored, :class:`dailypapers.community.feedback.FeedTokens`): it is shown once, on the page
answering the form that made it; a revoked or unknown token is a 404, exactly as a token that never existed. Every
POST passes the app's CSRF check like any other form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.errors import BadInput, NotFound, NotSignedIn
from dailypapers.library import Library
from dailypapers.search.recommend import Interests, Pick
from dailypapers.serialize import paper_json
from dailypapers.web.deps import LibraryDep, UserDep, login_redirect
from dailypapers.web.feeds import atom_response
from dailypapers.web.forms import NextField, back_to, safe_next
from dailypapers.web.params import PaperIdPath
from dailypapers.web.responses import SafeJSONResponse, allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import paper_url, public_url, render
from dailypapers.web.views import Atom, Html, Json, view
from dailypapers.web.voters import vote_buttons

router = APIRouter(responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
PICKS = 30  # what the page, its JSON and the private feed show
LimitParam = Annotated[int, Query(ge=1, le=100, description=f"How many picks (1 to 100; default {PICKS}).")]
TextField = Annotated[str, Form(max_length=5000)]
TokenPath = Annotated[str, Path(max_length=200, description="The feed's secret token.")]


@dataclass
class ForYouView:
    """A signed-in user's picks, best first, with their interests, whether their private feed exists, and the
    picks they marked "not for me" (their ``pk``; the page shows an undo button for those)."""

    picks: list[Pick]
    interests: Interests
    has_feed: bool
    refused: set[int]


def for_you_view(library: Library, user: User, limit: int = PICKS) -> ForYouView:
    picks = library.recommend.picks(user.id, limit=limit)
    refused = library.feedback.marked(user.id, [p.paper.pk for p in picks if p.paper.pk is not None])
    return ForYouView(picks, library.interests.get(user.id), library.feed_tokens.active(user.id), refused)


def pick_json(pick: Pick) -> dict[str, Any]:
    return {
        "paper": paper_json(pick.paper),
        "score": round(pick.score, 4),
        "label": pick.label,
        "reason": pick.reason,
        "reason_kind": pick.reason_kind,
        "reason_paper": pick.reason_paper_id,
        "reason_url": paper_url(pick.reason_paper_id) if pick.reason_paper_id else None,
    }


def _json(request: Request, view: ForYouView | None) -> dict[str, Any]:
    if view is None:  # a visitor
        raise NotSignedIn("Sign in first: this needs an account.")
    return {
        "ok": True,
        "picks": [pick_json(p) for p in view.picks],
        "cold_start": not any(p.reason_kind == "similar" for p in view.picks),
        "interests": {
            "categories": list(view.interests.categories),
            "keywords": list(view.interests.keywords),
            "papers": list(view.interests.paper_ids),
        },
    }


def _context(request: Request, view: ForYouView | None, new_feed_url: str | None = None) -> dict[str, Any]:
    """The page's context; a visitor (``view`` None) is asked to log in."""
    context: dict[str, Any] = {"picks": [], "signed_in": view is not None, "new_feed_url": new_feed_url}
    if view is not None:
        context |= {"picks": view.picks, "interests": view.interests, "has_feed": view.has_feed,
                    "refused": view.refused, "votes": vote_buttons(request, [p.paper for p in view.picks])}  # fmt: skip
    return context


@view(
    router,
    Html("/for-you", "for_you.html", _context, summary="Papers picked for you (HTML)"),
    Json("/api/for-you", dict[str, Any], _json, summary="Papers picked for you (JSON)",
         response_class=SafeJSONResponse),
)  # fmt: skip
def for_you(request: Request, library: LibraryDep, limit: LimitParam = PICKS) -> ForYouView | None:
    """Recent papers ranked by what you upvoted, saved and marked "not for me", each with its reason, best first
    (an API token or a session); a visitor who is not signed in gets a page that asks to log in (the JSON: 401)."""
    user = current_user(request)
    return for_you_view(library, user, limit) if user else None


@router.post("/for-you/feed", tags=["pages"], summary="Make or revoke the private Atom feed of your picks (HTML form)")
def feed_token_form(
    request: Request,
    library: LibraryDep,
    action: Annotated[str, Form(max_length=20, description="`create` (a new secret URL) or `revoke`.")],
) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect("/for-you")
    if action == "revoke":
        library.feed_tokens.revoke(user.id)
        return RedirectResponse("/for-you#feed", status_code=303)
    if action != "create":
        raise BadInput("'action' must be 'create' or 'revoke'.")
    url = public_url(request, f"/feeds/for-you/{library.feed_tokens.create(user.id)}.atom")
    return render(request, "for_you.html", _context(request, for_you_view(library, user), new_feed_url=url))


def _feed(request: Request, picks: list[Pick]) -> Response:
    response = atom_response(
        request, title="Picked for you", page_path="/for-you", papers=[p.paper for p in picks],
        subtitle="Recent papers ranked by what you upvoted and saved",
    )  # fmt: skip
    response.headers["Cache-Control"] = "private, max-age=300"  # a personal feed: no shared cache keeps it
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@view(router, Atom("/feeds/for-you/{token}.atom", _feed, summary="The private Atom feed of your picks"))
def for_you_feed(library: LibraryDep, token: TokenPath) -> list[Pick]:
    """The owner's picks, for anybody holding the secret URL; a revoked or unknown token is 404."""
    user_id = library.feed_tokens.user_of(token)
    if user_id is None:
        raise NotFound("There is no such feed.")
    return library.recommend.picks(user_id, limit=PICKS)


# -- interests ----------------------------------------------------------------------------------------------------
def _split(text: str, sep: str | None) -> list[str]:
    return [part.strip() for part in text.split(sep) if part.strip()]


def _interests_page(request: Request, values: dict[str, str], status: int = 200, **extra: Any) -> Response:
    context = {"values": values, "error": None, "saved": False, "welcome": False, **extra}
    return render(request, "interests.html", context, status_code=status)


def _saved_interests(library: Library, user: User) -> dict[str, str]:
    mine = library.interests.get(user.id)
    return {"categories": " ".join(mine.categories), "keywords": "\n".join(mine.keywords),
            "papers": " ".join(mine.paper_ids)}  # fmt: skip


@router.get("/account/interests", tags=["pages"], summary="Your interests: what to recommend before you upvote (HTML)")
def interests_page(
    request: Request, library: LibraryDep, welcome: Annotated[bool, Query(description="Just signed up.")] = False
) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect("/account/interests")
    return _interests_page(request, _saved_interests(library, user), welcome=welcome)


@router.post("/account/interests", tags=["pages"], summary="Save your interests (HTML form)")
def save_interests(
    request: Request,
    library: LibraryDep,
    categories: TextField = "",
    keywords: TextField = "",
    papers: TextField = "",
) -> Response:
    """Categories and papers separated by spaces or commas, one keyword a line (or comma-separated)."""
    user = current_user(request)
    if user is None:
        return login_redirect("/account/interests")
    try:
        library.interests.set(
            user.id,
            categories=_split(categories.replace(",", " "), None),
            keywords=_split(keywords.replace(",", "\n"), "\n"),
            paper_ids=_split(papers.replace(",", " "), None),
        )
    except BadInput as exc:
        typed = {"categories": categories, "keywords": keywords, "papers": papers}
        return _interests_page(request, typed, exc.status, error=exc.message)
    return _interests_page(request, _saved_interests(library, user), saved=True)


# -- not for me: a form and its JSON twins, one service call ----------------------------------------------------
@router.post(
    "/papers/{paper_id:path}/not-for-me", tags=["pages"], summary="Mark a paper 'not for me', or take it back (form)"
)
def not_for_me_form(
    request: Request,
    library: LibraryDep,
    paper_id: PaperIdPath,
    value: Annotated[bool, Form(description="`true`: fewer like this; `false`: take it back.")] = True,
    next_url: NextField = "",
) -> Response:
    target = safe_next(next_url) if next_url else None
    user = current_user(request)
    if user is None:
        back = target or paper_url(paper_id)
        return RedirectResponse("/login?next=" + quote(back, safe="/#"), status_code=303)
    library.feedback.mark(user.id, paper_id, value)
    return back_to(target, paper_url(paper_id))


def _feedback(library: Library, user: User, paper_id: str, value: bool) -> dict[str, Any]:
    return {"ok": True, "paper": paper_id, "not_for_me": library.feedback.mark(user.id, paper_id, value)}


@router.post(
    "/api/feedback/{paper_id:path}",
    tags=["api"],
    response_class=SafeJSONResponse,
    summary="Mark a paper 'not for me' (JSON)",
)
def feedback_api_mark(user: UserDep, library: LibraryDep, paper_id: PaperIdPath) -> dict[str, Any]:
    """Idempotent. Needs an API token, or a session with its CSRF token in `X-CSRF-Token`."""
    return _feedback(library, user, paper_id, True)


@router.delete(
    "/api/feedback/{paper_id:path}",
    tags=["api"],
    response_class=SafeJSONResponse,
    summary="Take back 'not for me' (JSON)",
)
def feedback_api_unmark(user: UserDep, library: LibraryDep, paper_id: PaperIdPath) -> dict[str, Any]:
    return _feedback(library, user, paper_id, False)


allow_head(router)  # HEAD for the interests page (the views register their own)
