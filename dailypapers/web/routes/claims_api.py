"""The JSON side of authorship claims, for scripts and API tokens (the HTML forms are :mod:`.claims`).

* ``GET /api/claims`` — the caller's own claims, every status; ``?pending=true`` — the pending claims (admins);
* ``POST /api/claims`` ``{"paper", "author_name"}`` — claim to be one of a paper's authors (201, pending);
* ``POST /api/claims/{id}/approve`` and ``…/reject`` — an admin's decision;
* ``DELETE /api/claims/{id}`` — withdraw one's own pending claim.

Writing needs a signed-in user: an API token, or a session with its CSRF token in ``X-CSRF-Token``. A member who
names another user's claim, or any claim to decide, gets the answer of an unknown id (404): ids say nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from dailypapers.accounts.models import User
from dailypapers.community.claims import Claim
from dailypapers.errors import Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.web.deps import LibraryDep, json_user
from dailypapers.web.routes.claims import NO_CLAIM, ClaimIdPath
from dailypapers.web.schemas import ERROR_RESPONSES, ErrorOut
from dailypapers.web.security.identity import require_user

router = APIRouter(prefix="/api/claims", tags=["api"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorOut, "description": "Not signed in, or an unknown API token."},
    403: {"model": ErrorOut, "description": "A missing CSRF token, or a member asking for the admins' list."},
    429: {"model": ErrorOut, "description": "Too many claims and submissions; `Retry-After` says when."},
}
JsonUser = Annotated[User, Depends(json_user)]
SignedIn = Annotated[User, Depends(require_user)]


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


@router.get("", response_model=ClaimsOut, responses=_ERRORS, summary="Your claims, or the pending ones (admins)")
def list_claims(
    library: LibraryDep,
    user: SignedIn,
    pending: Annotated[bool, Query(description="`true`: every pending claim (admins only).")] = False,
) -> dict[str, Any]:
    if pending and not user.is_admin:
        raise Forbidden("Only admins review authorship claims.")
    found = library.claims.pending() if pending else library.claims.claims_of(user.id)
    return {"ok": True, "claims": [claim_out(c) for c in found]}


@router.post("", response_model=ClaimDoneOut, status_code=201, responses=_ERRORS, summary="Claim a paper")
def make_claim(request: Request, library: LibraryDep, sent: ClaimIn, user: JsonUser) -> dict[str, Any]:
    """A pending claim that you are one of the paper's authors, for an admin to approve."""
    paper = library.papers.get(sent.paper)
    if paper is None or paper.pk is None:
        raise NotFound(f"No paper has the id '{sent.paper[:200]}'.")
    request.app.state.rate_limits.hit("submit", f"user:{user.id}", what="claims and submissions")
    return {"ok": True, "claim": claim_out(library.claims.claim(paper.pk, user.id, sent.author_name))}


def _decide(library: Library, claim_id: str, user: User, approve: bool) -> dict[str, Any]:
    if not user.is_admin:  # a member learns nothing about the id: the answer of an unknown one
        raise NotFound(NO_CLAIM)
    decide = library.claims.approve if approve else library.claims.reject
    return {"ok": True, "claim": claim_out(decide(claim_id, user.id))}


@router.post("/{claim_id}/approve", response_model=ClaimDoneOut, responses=_ERRORS, summary="Approve a claim")
def approve(library: LibraryDep, claim_id: ClaimIdPath, user: SignedIn) -> dict[str, Any]:
    return _decide(library, claim_id, user, True)


@router.post("/{claim_id}/reject", response_model=ClaimDoneOut, responses=_ERRORS, summary="Reject a claim")
def reject(library: LibraryDep, claim_id: ClaimIdPath, user: SignedIn) -> dict[str, Any]:
    return _decide(library, claim_id, user, False)


@router.delete("/{claim_id}", responses=_ERRORS, summary="Withdraw your pending claim")
def withdraw(library: LibraryDep, claim_id: ClaimIdPath, user: SignedIn) -> dict[str, Any]:
    library.claims.withdraw(claim_id, user.id)
    return {"ok": True}
