"""Authorship claims on the web: the claim form of a paper's page, the admins' review list, and withdrawing.

* ``POST /papers/{id}/claim`` — a signed-in user claims to be one of the paper's authors (form: ``author_name``);
* ``GET /claims`` — the pending claims, with approve and reject buttons: admins only (a member gets 403: the
  page's existence is no secret; a visitor goes to the log-in page);
* ``POST /claims/{id}/approve`` and ``/reject`` — admins; ``POST /claims/{id}/withdraw`` — the claim's owner,
  while it is pending.

A claim id names a private thing: to anybody who may not act on it (a member approving, another user withdrawing)
it is a 404, the same answer as an unknown id, so ids never reveal that a claim exists. Every form carries the CSRF
token (the security layer checks it) and goes back with a 303 to ``next``, a path on this site. The paper page's
part is :func:`claim_context`, rendered by ``_paper_claim.html``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.community.claims import Claim
from dailypapers.errors import Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import LibraryDep
from dailypapers.web.forms import next_or, safe_next
from dailypapers.web.panels import paper_panel
from dailypapers.web.params import PaperIdPath
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.csrf import CSRF_FIELD, csrf_token
from dailypapers.web.security.identity import current_user, require_user
from dailypapers.web.templating import paper_url, render

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)

ClaimIdPath = Annotated[str, Path(max_length=64, description="The claim's id.")]
CsrfField = Annotated[str, Form(alias=CSRF_FIELD, max_length=200, description="The form's CSRF token.")]
NextField = Annotated[
    str | None, Form(alias="next", max_length=2000, description="Where to go back to: a path on this site.")
]
NO_CLAIM = "There is no such claim."
REVIEW_PAGE = 200  # pending claims shown at once: an instance with more has admins to spare


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


@router.post(
    "/papers/{paper_id:path}/claim",
    response_class=RedirectResponse,
    status_code=303,
    responses={303: {"description": "Back to `next` (default: the paper's page)."}},
    summary="Claim to be one of a paper's authors (HTML form)",
)
def claim_paper(
    request: Request,
    library: LibraryDep,
    paper_id: PaperIdPath,
    author_name: Annotated[str, Form(max_length=2000, description="Which of the paper's authors you are.")],
    csrf: CsrfField = "",
    next_url: NextField = None,
) -> RedirectResponse:
    """A pending claim, for an admin to approve; a visitor goes to the log-in page and back."""
    target = safe_next(next_url) if next_url else None
    user = current_user(request)
    if user is None:
        back = target or paper_url(paper_id)
        return RedirectResponse("/login?next=" + quote(back, safe="/#"), status_code=303)
    paper = library.papers.get(paper_id)
    if paper is None or paper.pk is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    request.app.state.rate_limits.hit("submit", f"user:{user.id}", what="claims and submissions")
    library.claims.claim(paper.pk, user.id, author_name)
    return RedirectResponse(target or paper_url(paper.id) + "#claim", status_code=303)


@router.get("/claims", response_model=None, summary="Pending authorship claims (admins)")
def review_page(request: Request, library: LibraryDep) -> Response:
    """The pending claims, newest first, each with approve and reject buttons."""
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/claims", status_code=303)
    if not user.is_admin:
        raise Forbidden("Only admins review authorship claims.")
    context = {"pending": library.claims.pending(limit=REVIEW_PAGE), "total": library.claims.count_pending()}
    return render(request, "claims.html", context)


def _decide(request: Request, library: Library, claim_id: str, approve: bool, next_url: str | None) -> Response:
    user = require_user(request)
    target = next_or(next_url, "/claims")  # checked before the action runs
    if not user.is_admin:  # a member learns nothing about the id: the answer of an unknown one
        raise NotFound(NO_CLAIM)
    decide = library.claims.approve if approve else library.claims.reject
    decide(claim_id, user.id)
    return RedirectResponse(target, status_code=303)


@router.post("/claims/{claim_id}/approve", response_class=RedirectResponse, status_code=303,
             summary="Approve an authorship claim (admins, HTML form)")  # fmt: skip
def approve_claim(
    request: Request, library: LibraryDep, claim_id: ClaimIdPath, csrf: CsrfField = "", next_url: NextField = None
) -> Response:
    return _decide(request, library, claim_id, True, next_url)


@router.post("/claims/{claim_id}/reject", response_class=RedirectResponse, status_code=303,
             summary="Reject an authorship claim (admins, HTML form)")  # fmt: skip
def reject_claim(
    request: Request, library: LibraryDep, claim_id: ClaimIdPath, csrf: CsrfField = "", next_url: NextField = None
) -> Response:
    return _decide(request, library, claim_id, False, next_url)


@router.post("/claims/{claim_id}/withdraw", response_class=RedirectResponse, status_code=303,
             summary="Withdraw your pending authorship claim (HTML form)")  # fmt: skip
def withdraw_claim(
    request: Request, library: LibraryDep, claim_id: ClaimIdPath, csrf: CsrfField = "", next_url: NextField = None
) -> Response:
    """Only the claim's owner, only while it is pending (anybody else: 404)."""
    user = require_user(request)
    target = next_or(next_url, "/users/" + quote(user.username))  # checked before the action runs
    library.claims.withdraw(claim_id, user.id)
    return RedirectResponse(target, status_code=303)


allow_head(router)
