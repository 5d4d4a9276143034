"""Authorship claims: the claim form of a paper's page, the admins' review list, withdrawing, and the same as JSON.

Pages and forms:

* ``POST /papers/{id}/claim`` — a signed-in user claims to be one of the paper's authors (form: ``author_name``);
* ``GET /claims`` — the pending claims, with approve and reject buttons: admins only (a member gets 403: the
  page's existence is no secret; a visitor goes to the log-in page);
* ``POST /claims/{id}/approve`` and ``/reject`` — admins; ``POST /claims/{id}/withdraw`` — the claim's owner,
  while it is pending.

JSON, for scripts and API tokens:

* ``GET /api/claims`` — the caller's own claims, every status; ``?pending=true`` — the pending claims (admins);
* ``POST /api/claims`` ``{"paper", "author_name"}`` — claim to be one of a paper's authors (201, pending);
* ``POST /api/claims/{id}/approve`` and ``…/reject`` — an admin's decision;
* ``DELETE /api/claims/{id}`` — withdraw one's own pending claim.

A claim id names a private thing: to anybody who may not act on it (a member approving, another user withdrawing)
it is a 404, the same answer as an unknown id, so ids never reveal that a claim exists. A form and its JSON twin
make the same service call (:func:`_claim`, :func:`_decide`). Every form carries the CSRF token and JSON writes
send it in ``X-CSRF-Token`` (or use an API token); the security layer checks it. A form goes back with a 303 to
``next``, a path on this site. The paper page's part is :func:`claim_context`, rendered by ``_paper_claim.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.community.claims import Claim
from dailypapers.errors import Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import JsonUser, LibraryDep, UserDep
from dailypapers.web.forms import CsrfField, OptionalNextField, next_or, safe_next
from dailypapers.web.panels import paper_panel
from dailypapers.web.params import PaperIdPath
from dailypapers.web.schemas import ERROR_RESPONSES, ErrorOut
from dailypapers.web.security.csrf import csrf_token
from dailypapers.web.security.identity import current_user, require_user
from dailypapers.web.templating import paper_url
from dailypapers.web.views import Html, Json, view

router = APIRouter(responses=ERROR_RESPONSES)

ClaimIdPath = Annotated[str, Path(max_length=64, description="The claim's id.")]
NO_CLAIM = "There is no such claim."
REVIEW_PAGE = 200  # pending claims shown at once: an instance with more has admins to spare
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not signed in, or an unknown API token."},
    403: {"model": ErrorOut, "description": "A missing CSRF token, or a member asking for the admins' list."},
    429: {"model": ErrorOut, "description": "Too many claims and submissions; `Retry-After` says when."},
}


class ClaimIn(BaseModel):
    paper: str = Field(max_length=300, description="The paper's id (a version suffix is accepted).")
    author_name: str = Field(max_length=2000, description="Which of the paper's authors you are, as listed.")


class ClaimOut(BaseModel):
    id: str
    paper: str = Field(description="The paper's id.")
    paper_title: str
    username: str = Field(description="Who claims it.")
    author_name: str
    status: Literal["pending", "approved", "rejected"]
    created_at: datetime
    decided_at: datetime | None


class ClaimsOut(BaseModel):
    ok: Literal[True] = True
    claims: list[ClaimOut]


class ClaimDoneOut(BaseModel):
    ok: Literal[True] = True
    claim: ClaimOut


def claim_out(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "paper": claim.paper_id,
        "paper_title": claim.paper_title,
        "username": claim.username,
        "author_name": claim.author_name,
        "status": claim.status,
        "created_at": claim.created_at,
        "decided_at": claim.decided_at,
    }


@dataclass
class ClaimBox:
    """What the paper page shows about claims: who is an approved author, the viewer's own claim, and the form."""

    token: str
    signed_in: bool
    claimed_by: list[Claim] = field(default_factory=list)
    mine: Claim | None = None
    authors: list[str] = field(default_factory=list)


@paper_panel(order=10)
def claim_context(request: Request, library: Library, paper: Paper) -> dict[str, Any]:
    """The ``claim_box`` entry of the paper page's context (``_paper_claim.html``)."""
    user = current_user(request)
    box = ClaimBox(csrf_token(request), user is not None)
    if paper.pk is not None and paper.authors:
        box.claimed_by = library.claims.claimed_by(paper.pk)
        box.mine = library.claims.claim_on(paper.pk, user.id) if user is not None else None
        box.authors = list(dict.fromkeys(paper.authors))
    return {"claim_box": box}


# -- the service calls a form and its JSON twin share -------------------------------------------------------------
def _claim(request: Request, library: Library, user: User, paper_id: str, author_name: str) -> Claim:
    """A pending claim by ``user`` on the paper; NotFound for an unknown paper, 429 past the rate limit."""
    paper = library.papers.get(paper_id)
    if paper is None or paper.pk is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    request.app.state.rate_limits.hit("submit", f"user:{user.id}", what="claims and submissions")
    return library.claims.claim(paper.pk, user.id, author_name)


def _decide(library: Library, claim_id: str, user: User, approve: bool) -> Claim:
    if not user.is_admin:  # a member learns nothing about the id: the answer of an unknown one
        raise NotFound(NO_CLAIM)
    decide = library.claims.approve if approve else library.claims.reject
    return decide(claim_id, user.id)


# -- JSON (registered before the pages: their order in the app is unchanged) --------------------------------------
@view(router, Json("/api/claims", ClaimsOut, lambda request, claims: {"ok": True, "claims": claims},
                   summary="Your claims, or the pending ones (admins)"), responses=_ERRORS)  # fmt: skip
def list_claims(
    library: LibraryDep,
    user: UserDep,
    pending: Annotated[bool, Query(description="`true`: every pending claim (admins only).")] = False,
) -> list[dict[str, Any]]:
    if pending and not user.is_admin:
        raise Forbidden("Only admins review authorship claims.")
    found = library.claims.pending() if pending else library.claims.claims_of(user.id)
    return [claim_out(c) for c in found]


@router.post("/api/claims", response_model=ClaimDoneOut, status_code=201, responses=_ERRORS, tags=["api"],
             summary="Claim a paper")  # fmt: skip
def make_claim(request: Request, library: LibraryDep, sent: ClaimIn, user: JsonUser) -> dict[str, Any]:
    """A pending claim that you are one of the paper's authors, for an admin to approve."""
    return {"ok": True, "claim": claim_out(_claim(request, library, user, sent.paper, sent.author_name))}


@router.post("/api/claims/{claim_id}/approve", response_model=ClaimDoneOut, responses=_ERRORS, tags=["api"],
             summary="Approve a claim")  # fmt: skip
def approve(library: LibraryDep, claim_id: ClaimIdPath, user: UserDep) -> dict[str, Any]:
    return {"ok": True, "claim": claim_out(_decide(library, claim_id, user, True))}


@router.post("/api/claims/{claim_id}/reject", response_model=ClaimDoneOut, responses=_ERRORS, tags=["api"],
             summary="Reject a claim")  # fmt: skip
def reject(library: LibraryDep, claim_id: ClaimIdPath, user: UserDep) -> dict[str, Any]:
    return {"ok": True, "claim": claim_out(_decide(library, claim_id, user, False))}


@router.delete("/api/claims/{claim_id}", responses=_ERRORS, tags=["api"], summary="Withdraw your pending claim")
def withdraw(library: LibraryDep, claim_id: ClaimIdPath, user: UserDep) -> dict[str, Any]:
    library.claims.withdraw(claim_id, user.id)
    return {"ok": True}


# -- pages and forms ----------------------------------------------------------------------------------------------
@router.post(
    "/papers/{paper_id:path}/claim",
    response_class=RedirectResponse,
    status_code=303,
    responses={303: {"description": "Back to `next` (default: the paper's page)."}},
    tags=["pages"],
    summary="Claim to be one of a paper's authors (HTML form)",
)
def claim_paper(
    request: Request,
    library: LibraryDep,
    paper_id: PaperIdPath,
    author_name: Annotated[str, Form(max_length=2000, description="Which of the paper's authors you are.")],
    csrf: CsrfField = "",
    next_url: OptionalNextField = None,
) -> RedirectResponse:
    """A pending claim, for an admin to approve; a visitor goes to the log-in page and back."""
    target = safe_next(next_url) if next_url else None
    user = current_user(request)
    if user is None:
        back = target or paper_url(paper_id)
        return RedirectResponse("/login?next=" + quote(back, safe="/#"), status_code=303)
    claim = _claim(request, library, user, paper_id, author_name)
    return RedirectResponse(target or paper_url(claim.paper_id) + "#claim", status_code=303)


@view(router, Html("/claims", "claims.html", summary="Pending authorship claims (admins)"))
def review_page(request: Request, library: LibraryDep) -> dict[str, Any] | Response:
    """The pending claims, newest first, each with approve and reject buttons."""
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/claims", status_code=303)
    if not user.is_admin:
        raise Forbidden("Only admins review authorship claims.")
    return {"pending": library.claims.pending(limit=REVIEW_PAGE), "total": library.claims.count_pending()}


def _form_decision(request: Request, library: Library, claim_id: str, approve: bool, next_url: str | None) -> Response:
    user = require_user(request)
    target = next_or(next_url, "/claims")  # checked before the action runs
    _decide(library, claim_id, user, approve)
    return RedirectResponse(target, status_code=303)


@router.post("/claims/{claim_id}/approve", response_class=RedirectResponse, status_code=303, tags=["pages"],
             summary="Approve an authorship claim (admins, HTML form)")  # fmt: skip
def approve_claim(
    request: Request,
    library: LibraryDep,
    claim_id: ClaimIdPath,
    csrf: CsrfField = "",
    next_url: OptionalNextField = None,
) -> Response:
    return _form_decision(request, library, claim_id, True, next_url)


@router.post("/claims/{claim_id}/reject", response_class=RedirectResponse, status_code=303, tags=["pages"],
             summary="Reject an authorship claim (admins, HTML form)")  # fmt: skip
def reject_claim(
    request: Request,
    library: LibraryDep,
    claim_id: ClaimIdPath,
    csrf: CsrfField = "",
    next_url: OptionalNextField = None,
) -> Response:
    return _form_decision(request, library, claim_id, False, next_url)


@router.post("/claims/{claim_id}/withdraw", response_class=RedirectResponse, status_code=303, tags=["pages"],
             summary="Withdraw your pending authorship claim (HTML form)")  # fmt: skip
def withdraw_claim(
    request: Request,
    library: LibraryDep,
    claim_id: ClaimIdPath,
    csrf: CsrfField = "",
    next_url: OptionalNextField = None,
) -> Response:
    """Only the claim's owner, only while it is pending (anybody else: 404)."""
    user = require_user(request)
    target = next_or(next_url, "/users/" + quote(user.username))  # checked before the action runs
    library.claims.withdraw(claim_id, user.id)
    return RedirectResponse(target, status_code=303)
