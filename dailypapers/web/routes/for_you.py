"""The "For you" page and its twins: ``/for-you`` (HTML), ``/api/for-you`` (JSON; API tokens work), the private
Atom feed ``/feeds/for-you/{token}.atom``, the interests form ``/account/interests``, and "Not for me":
``POST /papers/{id}/not-for-me`` (a form that works without JavaScript and goes back to ``next``) and
``POST``/``DELETE /api/feedback/{paper id}`` (JSON).

One view builds the context (:func:`for_you_context`) that the page, the JSON and the feed render. The feed's
token is a secret in the URL (only its SHA-256 is stored, :class:`dailypapers.community.feedback.FeedTokens`): it
is shown once, on the page answering the form that made it; a revoked or unknown token is a 404, exactly as a
token that never existed. Every POST passes the app's CSRF check like any other form.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.errors import BadInput, NotFound
from dailypapers.library import Library
from dailypapers.search.recommend import Pick
from dailypapers.serialize import paper_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.feeds import atom_response
from dailypapers.web.forms import back_to, safe_next
from dailypapers.web.responses import SafeJSONResponse
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user, require_user
from dailypapers.web.templating import paper_url, public_url, render
from dailypapers.web.voters import vote_buttons

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
api_router = APIRouter(tags=["api"], responses=ERROR_RESPONSES, default_response_class=SafeJSONResponse)
UserDep = Annotated[User, Depends(require_user)]
PaperPath = Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")]
LimitParam = Annotated[int, Query(ge=1, le=100, description="How many picks (1 to 100).")]
NextField = Annotated[str, Form(alias="next", max_length=2000, description="Where to go back to: a path here.")]
TextField = Annotated[str, Form(max_length=5000)]
PAGE_PICKS = 30
FEED_PICKS = 30


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


def for_you_context(library: Library, user: User, limit: int) -> dict[str, Any]:
    """The one view: the user's picks, their interests and whether a private feed exists."""
    picks = library.recommend.picks(user.id, limit=limit)
    return {
        "picks": picks,
        "interests": library.interests.get(user.id),
        "has_feed": library.feed_tokens.active(user.id),
        "refused": library.feedback.marked(user.id, [p.paper.pk for p in picks if p.paper.pk is not None]),
    }


def _page(request: Request, library: Library, status: int = 200, **extra: Any) -> Response:
    user = current_user(request)
    context: dict[str, Any] = {"picks": [], "signed_in": user is not None, "new_feed_url": None, **extra}
    if user is not None:
        context |= for_you_context(library, user, PAGE_PICKS)
        context["votes"] = vote_buttons(request, [p.paper for p in context["picks"]])
    return render(request, "for_you.html", context, status_code=status)


@router.get("/for-you", summary="Papers picked for you (HTML)")
def for_you_page(request: Request, library: LibraryDep) -> Response:
    """Recent papers ranked by what you upvoted, saved and marked "not for me", each with its reason; a visitor
    who is not signed in gets a page that asks to log in."""
    return _page(request, library)


@router.post("/for-you/feed", summary="Make or revoke the private Atom feed of your picks (HTML form)")
def feed_token_form(
    request: Request,
    library: LibraryDep,
    action: Annotated[str, Form(max_length=20, description="`create` (a new secret URL) or `revoke`.")],
) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/for-you", status_code=303)
    if action == "revoke":
        library.feed_tokens.revoke(user.id)
        return RedirectResponse("/for-you#feed", status_code=303)
    if action != "create":
        raise BadInput("'action' must be 'create' or 'revoke'.")
    token = library.feed_tokens.create(user.id)
    return _page(request, library, new_feed_url=public_url(request, f"/feeds/for-you/{token}.atom"))


@api_router.get("/api/for-you", summary="Papers picked for you (JSON)")
def for_you_api(user: UserDep, library: LibraryDep, limit: LimitParam = 20) -> dict[str, Any]:
    """The picks of the signed-in user (an API token or a session), best first."""
    context = for_you_context(library, user, limit)
    return {
        "ok": True,
        "picks": [pick_json(p) for p in context["picks"]],
        "cold_start": not any(p.reason_kind == "similar" for p in context["picks"]),
        "interests": {
            "categories": list(context["interests"].categories),
            "keywords": list(context["interests"].keywords),
            "papers": list(context["interests"].paper_ids),
        },
    }


@router.get("/feeds/for-you/{token}.atom", summary="The private Atom feed of your picks", tags=["feeds"])
def for_you_feed(request: Request, library: LibraryDep, token: Annotated[str, Path(max_length=200)]) -> Response:
    """Anybody holding the secret URL reads the owner's picks; a revoked or unknown token is 404."""
    user_id = library.feed_tokens.user_of(token)
    if user_id is None:
        raise NotFound("There is no such feed.")
    picks = library.recommend.picks(user_id, limit=FEED_PICKS)
    response = atom_response(
        request, title="Picked for you", page_path="/for-you", papers=[p.paper for p in picks],
        subtitle="Recent papers ranked by what you upvoted and saved",
    )  # fmt: skip
    response.headers["Cache-Control"] = "private, max-age=300"  # a personal feed: no shared cache keeps it
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# -- interests ----------------------------------------------------------------------------------------------------
def _split(text: str, sep: str | None) -> list[str]:
    return [part.strip() for part in text.split(sep) if part.strip()]


def _interests_page(request: Request, library: Library, user: User, status: int = 200, **extra: Any) -> Response:
    mine = library.interests.get(user.id)
    values = {"categories": " ".join(mine.categories), "keywords": "\n".join(mine.keywords),
              "papers": " ".join(mine.paper_ids)}  # fmt: skip
    context = {"values": values, "error": None, "saved": False, "welcome": False, **extra}
    return render(request, "interests.html", context, status_code=status)


@router.get("/account/interests", summary="Your interests: what to recommend before you upvote (HTML)")
def interests_page(
    request: Request, library: LibraryDep, welcome: Annotated[bool, Query(description="Just signed up.")] = False
) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/account/interests", status_code=303)
    return _interests_page(request, library, user, welcome=welcome)


@router.post("/account/interests", summary="Save your interests (HTML form)")
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
        return RedirectResponse("/login?next=/account/interests", status_code=303)
    lines = keywords.replace(",", "\n")
    try:
        library.interests.set(
            user.id,
            categories=_split(categories.replace(",", " "), None),
            keywords=_split(lines, "\n"),
            paper_ids=_split(papers.replace(",", " "), None),
        )
    except BadInput as exc:
        values = {"categories": categories, "keywords": keywords, "papers": papers}
        return render(request, "interests.html", {"values": values, "error": exc.message, "saved": False,
                                                  "welcome": False}, status_code=exc.status)  # fmt: skip
    return _interests_page(request, library, user, saved=True)


# -- not for me ---------------------------------------------------------------------------------------------------
@router.post("/papers/{paper_id:path}/not-for-me", summary="Mark a paper 'not for me', or take it back (form)")
def not_for_me_form(
    request: Request,
    library: LibraryDep,
    paper_id: PaperPath,
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


@api_router.post("/api/feedback/{paper_id:path}", summary="Mark a paper 'not for me' (JSON)")
def feedback_api_mark(user: UserDep, library: LibraryDep, paper_id: PaperPath) -> dict[str, Any]:
    """Idempotent. Needs an API token, or a session with its CSRF token in `X-CSRF-Token`."""
    return {"ok": True, "paper": paper_id, "not_for_me": library.feedback.mark(user.id, paper_id, True)}


@api_router.delete("/api/feedback/{paper_id:path}", summary="Take back 'not for me' (JSON)")
def feedback_api_unmark(user: UserDep, library: LibraryDep, paper_id: PaperPath) -> dict[str, Any]:
    return {"ok": True, "paper": paper_id, "not_for_me": library.feedback.mark(user.id, paper_id, False)}
