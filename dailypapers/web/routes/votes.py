"""Community upvotes: ``POST /api/votes/{id}`` (JSON), ``POST /papers/{id}/vote`` (HTML form), ``GET /api/votes``.

A vote is idempotent: ``{"up": true}`` upvotes (again: no change), ``{"up": false}`` withdraws the upvote. Both
routes answer with the paper's upvotes afterwards — the JSON route as ``{"ok": true, "paper", "upvotes", "voted"}``,
the form with a 303 back to the page it came from (``next``: a path on this site, nothing else, so the route is
no open redirect). A vote belongs to a signed-in user (session cookie + CSRF token, or an API token); anonymous
cookie votes only when ``DAILYPAPERS_ANONYMOUS_VOTES`` is on. CSRF, origin and body limits are the security
layer's (:mod:`dailypapers.web.security`), applied to every unsafe route; the rate limit
(``DAILYPAPERS_VOTE_RATE_LIMIT`` a minute per voter) is counted in the database, shared by every worker. The vote
itself is one transaction (:mod:`dailypapers.community.votes`), so any worker on any machine sees it at once.

Not under ``/api/papers/…``: that prefix belongs to the Hugging Face compatible API (``GET /api/papers/{id:path}``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, StrictBool

from dailypapers.errors import NotFound, NotSignedIn
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import LibraryDep, json_media, rate_limits
from dailypapers.web.forms import CsrfField, OptionalNextField, safe_next
from dailypapers.web.params import PaperIdPath
from dailypapers.web.schemas import ERROR_RESPONSES, ErrorOut
from dailypapers.web.security.cookies import CSRF_COOKIE
from dailypapers.web.security.csrf import CSRF_HEADER, csrf_token
from dailypapers.web.security.identity import voter_id
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.templating import paper_url
from dailypapers.web.views import Json, view

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorOut, "description": "Not signed in (and anonymous votes are off), or an unknown API token."},
    403: {"model": ErrorOut, "description": "A missing or wrong CSRF token, or a foreign origin."},
    429: {"model": ErrorOut, "description": "Too many votes from this voter; `Retry-After` says when to try again."},
}


class VoteIn(BaseModel):
    up: StrictBool = Field(description="`true`: upvote the paper; `false`: withdraw your upvote.")


class VoteOut(BaseModel):
    ok: Literal[True] = True
    paper: str = Field(description="The paper's id.")
    upvotes: int = Field(description="The paper's upvotes now: imported ones plus community votes.")
    voted: bool = Field(description="Whether this voter's upvote is counted now.")


class VoterOut(BaseModel):
    ok: Literal[True] = True
    csrf_token: str = Field(description=f"Send it in the `{CSRF_HEADER}` header of `POST /api/votes/{{id}}`.")
    cookie: str = Field(description="Name of the CSRF cookie (HttpOnly) this response sets on a first visit.")


def cast_vote(request: Request, library: Library, paper_id: str, voter: str, up: bool) -> tuple[Paper, int]:
    """Record the vote; 429 past the rate limit, 404 for an unknown paper. Returns the paper and its upvotes."""
    rate_limits(request).hit("vote", voter, what="votes")
    if not voter.startswith("user:"):  # an anonymous cookie is renewed at will: its address is counted too
        rate_limits(request).hit("vote", "address:" + client_address(request), what="votes from this address")
    paper = library.papers.get(paper_id)
    total = None if paper is None else library.votes.cast(paper.id, voter, up)
    if paper is None or total is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    return paper, total


def json_voter(request: Request) -> str:
    """The voter of a JSON vote: ``Content-Type: application/json`` (415 otherwise) and somebody who may vote."""
    json_media(request, "the vote")
    voter = voter_id(request, create=True)
    if voter is None:
        raise NotSignedIn("Sign in to vote (or send an API token: 'Authorization: Bearer <token>').")
    return voter


@view(router, Json("/api/votes", VoterOut, lambda request, data: data, summary="Your CSRF token for voting"),
      responses=_ERRORS)  # fmt: skip
def api_voter(request: Request) -> dict[str, Any]:
    """The caller's CSRF token; on a first visit also the CSRF cookie (`Set-Cookie`), which later votes must send
    (a session-authenticated script; an API token needs neither). The same as `GET /api/csrf`.

    Another origin cannot read this response, so the token stays with the browser or client that asked.
    """
    return {"ok": True, "csrf_token": csrf_token(request), "cookie": CSRF_COOKIE}


@router.post(
    "/api/votes/{paper_id:path}",
    response_model=VoteOut,
    responses={**_ERRORS, 415: {"model": ErrorOut, "description": "The body is not sent as JSON."}},
    tags=["api"],
    summary="Upvote a paper, or withdraw the upvote",
)
def api_vote(
    request: Request,
    library: LibraryDep,
    paper_id: PaperIdPath,
    vote: VoteIn,
    voter: Annotated[str, Depends(json_voter)],
) -> dict[str, Any]:
    """Idempotent: `{"up": true}` twice counts once. Needs an API token, or a session with its CSRF token in
    `X-CSRF-Token`."""
    paper, total = cast_vote(request, library, paper_id, voter, vote.up)
    return {"ok": True, "paper": paper.id, "upvotes": total, "voted": vote.up}


@router.post(
    "/papers/{paper_id:path}/vote",
    response_class=RedirectResponse,
    status_code=303,
    responses={**_ERRORS, 303: {"description": "Back to `next` (default: the paper's page)."}},
    tags=["pages"],
    summary="Upvote a paper, or withdraw the upvote (HTML form)",
)
def form_vote(
    request: Request,
    library: LibraryDep,
    paper_id: PaperIdPath,
    up: Annotated[bool, Form(description="`true`: upvote; `false`: withdraw the upvote.")],
    csrf: CsrfField = "",
    next_url: OptionalNextField = None,
) -> RedirectResponse:
    """The vote button of the pages (works without JavaScript): votes, then goes back to where it was pressed.
    A visitor who may not vote goes to the log-in page, and from there back to ``next``."""
    target = safe_next(next_url) if next_url else None
    voter = voter_id(request, create=True)
    if voter is None:
        back = target or paper_url(paper_id)
        return RedirectResponse("/login?next=" + quote(back, safe="/#"), status_code=303)
    paper, _ = cast_vote(request, library, paper_id, voter, up)
    return RedirectResponse(target or paper_url(paper.id), status_code=303)
