"""A first visit that learns your taste: ``/for-you/rate`` (HTML) and ``/api/for-you/rate`` (JSON), one view.

A round of :data:`dailypapers.topics.coldstart.ROUND` papers chosen to learn fastest (one per topic of the map the
reader has not rated yet, then those their taste model is least sure about; :mod:`dailypapers.topics.coldstart`).
Each answer is a signal "For you" already reads: "More like this" is the upvote form (``POST
/papers/{id}/vote``), "Not for me" the form of that name (``POST /papers/{id}/not-for-me``); both come back here,
where the next round leaves out what was answered. "For you" links here while it knows fewer than
:data:`ENOUGH` liked papers (``_rate_prompt.html``, through the ``taste_is_thin`` template helper).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.errors import NotSignedIn
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.serialize import paper_json
from dailypapers.web.deps import LibraryDep, login_redirect
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import templates
from dailypapers.web.views import Html, Json, view

router = APIRouter(responses=ERROR_RESPONSES)
ENOUGH = 5  # liked papers from which "For you" no longer asks for a rating round


class RateOut(BaseModel):
    liked: int = Field(description="Papers the reader liked so far (upvoted, saved, authored, seeds).")
    refused: int = Field(description="Papers they marked 'not for me'.")
    papers: list[PaperOut] = Field(description="The round: the papers to rate next.")


@dataclass
class RateView:
    liked: int
    refused: int
    papers: list[Paper]


def _context(request: Request, found: RateView | None) -> dict[str, Any] | Response:
    if found is None:
        return login_redirect("/for-you/rate")
    return {
        "view": found,
        "json_url": "/api/for-you/rate",
        "next": str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
    }


def _json(request: Request, found: RateView | None) -> dict[str, Any]:
    if found is None:
        raise NotSignedIn("Sign in first: the rating round learns your taste.")
    return {"liked": found.liked, "refused": found.refused, "papers": [paper_json(p, {}) for p in found.papers]}


@view(
    router,
    Html("/for-you/rate", "rate.html", _context, summary="Rate a round of papers (HTML)"),
    Json("/api/for-you/rate", RateOut, _json, summary="The next papers to rate"),
)
def rate(
    request: Request,
    library: LibraryDep,
    topic: Annotated[list[int], Query(max_length=20, description="Topics picked on the map (`/api/map` ids).")] = [],  # noqa: B006
) -> RateView | None:
    """The next round of papers for the signed-in reader to rate (None for a visitor)."""
    user = current_user(request)
    if user is None:
        return None
    taste = library.tastes.get(user.id)
    keys = library.topics.rating_round(taste.positives, taste.negatives, topics=topic)
    return RateView(len(taste.positives), len(taste.negatives), library.papers.by_pks(keys))


def taste_is_thin(request: Request) -> bool:
    """Whether the signed-in reader's "For you" knows fewer than :data:`ENOUGH` liked papers (and a map exists)."""
    user = current_user(request)
    library: Library = request.app.state.library
    if user is None or library.topics.generation() == 0:
        return False
    return len(library.tastes.get(user.id).positives) < ENOUGH


templates.env.globals.update(taste_is_thin=taste_is_thin)
