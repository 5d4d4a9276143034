"""Submitting papers and setting their links: ``GET|POST /submit`` (HTML form), ``POST /api/submissions`` (JSON),
``POST /papers/{id}/links`` (HTML form) and ``PUT|POST /api/links/{id}`` (JSON), plus the paper page's part
(:func:`submission_context`).

The forms work without JavaScript: a submission goes on to the paper's page (303) with a notice; a mistake shows
the form again with the message and what was typed, in the status that fits it (400 a bad id or a stale paper,
409 a paper that is already here, 429 too many submissions or arXiv busy, 502 arXiv failing). When arXiv has not
answered within a moment, the form answers anyway: a 303 to ``/submit/checking/{ticket}``, which says the paper is
being checked, keeps the typed text and reloads itself until the outcome is known
(:mod:`dailypapers.community.pending_submissions`). ``/submit?id=…`` opens the form filled in. Submissions are
rate limited per user and per client address (``DAILYPAPERS_SUBMIT_RATE_LIMIT``, counted in the database). The
JSON twins take a session with its CSRF token or an API token (``Authorization: Bearer``), like every unsafe
route (:mod:`dailypapers.web.security`). The service is :mod:`dailypapers.community.submissions`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from dailypapers.accounts.models import User
from dailypapers.community.pending_submissions import Outcome
from dailypapers.community.submissions import MAX_URL, SubmitResult
from dailypapers.errors import NotFound, UserError
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import LibraryDep, json_user
from dailypapers.web.panels import paper_panel
from dailypapers.web.params import PaperIdPath
from dailypapers.web.schemas import ERROR_RESPONSES, ErrorOut
from dailypapers.web.security.identity import current_user
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.templating import paper_url, render
from dailypapers.web.views import Html, view

router = APIRouter(responses=ERROR_RESPONSES)

_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorOut, "description": "Not signed in, or an unknown API token."},
    403: {"model": ErrorOut, "description": "A missing or wrong CSRF token, a foreign origin, or not allowed."},
    415: {"model": ErrorOut, "description": "The body is not sent as JSON."},
    429: {"model": ErrorOut, "description": "Too many submissions, or arXiv busy; `Retry-After` says when to retry."},
    502: {"model": ErrorOut, "description": "arXiv could not be reached or failed; nothing was stored."},
}
NOTICES = {
    "submitted": "Thank you: the paper is on today's list, with you as its submitter.",
    "links": "The links were saved.",
}
CHECK_AGAIN_AFTER = 2  # seconds between the reloads of the "being checked" page
IdField = Annotated[str, Form(alias="id", max_length=2000, description="An arXiv id or arxiv.org link.")]
UrlField = Annotated[str, Form(max_length=2000)]  # longer than any link accepted: the service says why


class SubmissionIn(BaseModel):
    id: str = Field(
        max_length=2000,
        description="The paper's arXiv id (`2106.09685`, `2106.09685v2`, `hep-th/9901001`), `arXiv:` id or "
        "arxiv.org abs/PDF link.",
        examples=["2106.09685"],
    )


class SubmissionOut(BaseModel):
    ok: Literal[True] = True
    paper: str = Field(description="The paper's id.")
    url: str = Field(description="The paper's page.")
    duplicate: bool = Field(description="`true`: the paper was already here; nothing was fetched or recorded.")


class LinksIn(BaseModel):
    code_url: str | None = Field(None, max_length=2000, description="GitHub repository; empty or omitted: none.")
    project_url: str | None = Field(None, max_length=2000, description="Project page; empty or omitted: none.")


class LinksOut(BaseModel):
    ok: Literal[True] = True
    paper: str = Field(description="The paper's id.")
    code_url: str | None = Field(description="The code link shown now (the one set here, else the abstract's).")
    project_url: str | None = Field(description="The project page shown now (set here, else the abstract's).")


def count_attempt(request: Request, user: User) -> None:
    """Count a submission against the user's and the address's limits (:class:`RateLimited` past one)."""
    limits = request.app.state.rate_limits
    limits.hit("submit", f"user:{user.id}", what="submissions")
    limits.hit("submit", f"address:{client_address(request)}", what="submissions from this address")


def submit(request: Request, library: Library, user: User, text: str) -> SubmitResult:
    """Count the attempt against the user's and the address's limits, then submit."""
    count_attempt(request, user)
    return library.submissions.submit(text, user.id)


def _login(next_path: str) -> RedirectResponse:
    return RedirectResponse("/login?next=" + quote(next_path, safe="/#"), status_code=303)


def _form_context(library: Library, **values: Any) -> dict[str, Any]:
    return {"window_days": library.config.submission_window_days, "typed": "", **values}


def _form(request: Request, library: Library, status: int, **values: Any) -> Response:
    return render(request, "submit.html", _form_context(library, **values), status_code=status)


# -- submitting ---------------------------------------------------------------------------------------------------
@view(router, Html("/submit", "submit.html", summary="The paper submission form"))
def submit_page(
    request: Request, library: LibraryDep, id: Annotated[str, Query(max_length=300)] = ""
) -> dict[str, Any] | Response:
    """The form; ``?id=`` fills it in (the search page's "submit it" link for an arXiv id not stored here)."""
    if current_user(request) is None:
        return _login("/submit" + (f"?id={quote(id, safe='')}" if id else ""))
    return _form_context(library, typed=id)


@router.post(
    "/submit", response_class=HTMLResponse, responses=_ERRORS, tags=["pages"], summary="Submit a paper (HTML form)"
)
def submit_form(request: Request, library: LibraryDep, text: IdField = "") -> Response:
    """Fetch the paper from arXiv and put it on today's list; then its page (303), the form with the reason, or,
    while arXiv has not answered after a moment, the page that says it is being checked (303)."""
    user = current_user(request)
    if user is None:
        return _login("/submit")
    try:
        count_attempt(request, user)
    except UserError as exc:
        return _failed(request, library, exc.status, exc.message, text[:300], exc.headers)
    return _answer(request, library, library.submissions.pending.start(text, user.id))


@view(router, Html("/submit/checking/{ticket}", "submit.html", summary="A submission being checked with arXiv"))
def submit_checking(request: Request, library: LibraryDep, ticket: Annotated[str, Path(max_length=64)]) -> Any:
    """Where a submission stands: "being checked" (the page reloads itself), then the paper or the form again."""
    user = current_user(request)
    if user is None:
        return _login(f"/submit/checking/{quote(ticket, safe='')}")
    outcome = library.submissions.pending.get(ticket, user.id)
    if outcome is None:
        raise NotFound("No submission of yours is being checked at this address; submit the paper again.")
    if outcome.state == "checking":
        return _form_context(library, checking=outcome, typed=outcome.typed, refresh_seconds=CHECK_AGAIN_AFTER)
    return _answer(request, library, outcome)


def _answer(request: Request, library: Library, outcome: Outcome) -> Response:
    if outcome.state == "checking":
        return RedirectResponse(f"/submit/checking/{outcome.ticket}", status_code=303)
    if outcome.state == "failed":
        error = outcome.error or "The paper was not submitted."
        return _failed(request, library, outcome.status, error, outcome.typed, outcome.headers)
    paper = library.papers.get(outcome.paper_id or "")
    if paper is None:  # taken off the list since: the form, with what was typed
        return _failed(request, library, 404, "The paper is no longer here.", outcome.typed, {})
    if outcome.duplicate:
        return _form(request, library, 409, duplicate=paper, typed=outcome.typed)
    return RedirectResponse(paper_url(paper.id) + "?notice=submitted", status_code=303)


def _failed(
    request: Request, library: Library, status: int, error: str, typed: str, headers: Mapping[str, str]
) -> Response:
    response = _form(request, library, status, error=error, typed=typed)
    response.headers.update(headers)
    return response


@router.post(
    "/api/submissions",
    response_model=SubmissionOut,
    status_code=201,
    responses={**_ERRORS, 200: {"model": SubmissionOut, "description": "Already here (`duplicate`)."}},
    tags=["api"],
    summary="Submit a paper by its arXiv id",
)
def api_submit(
    request: Request,
    response: Response,
    library: LibraryDep,
    body: SubmissionIn,
    user: Annotated[User, Depends(json_user)],
) -> dict[str, Any]:
    """201 with the new paper; 200 with `duplicate: true` when it was already here. Needs an API token, or a
    session with its CSRF token in `X-CSRF-Token`."""
    result = submit(request, library, user, body.id)
    if result.duplicate:
        response.status_code = 200
    paper = result.paper
    return {"ok": True, "paper": paper.id, "url": paper_url(paper.id), "duplicate": result.duplicate}


# -- links --------------------------------------------------------------------------------------------------------
def _paper(library: Library, paper_id: str) -> Paper:
    paper = library.papers.get(paper_id)
    if paper is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    return paper


@router.post(
    "/papers/{paper_id:path}/links",
    response_class=HTMLResponse,
    responses={**_ERRORS, 303: {"description": "Back to the paper's page."}},
    tags=["pages"],
    summary="Set a paper's code and project links (HTML form)",
)
def form_links(
    request: Request,
    library: LibraryDep,
    paper_id: PaperIdPath,
    code_url: UrlField = "",
    project_url: UrlField = "",
) -> Response:
    """For the submitter, an author whose claim was approved, or an admin. An empty field goes back to the
    abstract's link."""
    paper = _paper(library, paper_id)
    user = current_user(request)
    if user is None:
        return _login(paper_url(paper.id))
    try:
        library.submissions.set_links(paper, user.id, code_url, project_url, is_admin=user.is_admin)
    except UserError as exc:
        typed = {"code_url": code_url[: MAX_URL * 2], "project_url": project_url[: MAX_URL * 2]}
        context = submission_context(request, library, paper, links_error=exc.message, links_typed=typed)
        return render(request, "links.html", context, status_code=exc.status)
    return RedirectResponse(paper_url(paper.id) + "?notice=links#links", status_code=303)


def api_links(
    library: LibraryDep, paper_id: PaperIdPath, body: LinksIn, user: Annotated[User, Depends(json_user)]
) -> dict[str, Any]:
    """Replace the paper's code and project links (for the submitter, an author whose claim was approved, or an
    admin); an empty or omitted field goes back to the abstract's link. Answers the links shown now."""
    paper = _paper(library, paper_id)
    links = library.submissions.set_links(paper, user.id, body.code_url, body.project_url, is_admin=user.is_admin)
    return {"ok": True, "paper": paper.id, "code_url": links.code_url, "project_url": links.project_url}


for _method in ("PUT", "POST"):
    router.add_api_route(
        "/api/links/{paper_id:path}",
        api_links,
        methods=[_method],
        name=f"api_links_{_method.lower()}",
        response_model=LinksOut,
        responses=_ERRORS,
        tags=["api"],
        summary="Set a paper's code and project links",
    )


# -- the paper page's part ----------------------------------------------------------------------------------------
@paper_panel(order=90)
def submission_context(request: Request, library: Library, paper: Paper, **extra: Any) -> dict[str, Any]:
    """What ``_paper_links.html`` shows on the paper's page: the submitter, the effective links, the edit form for
    those allowed, and the notice after a submission or an edit.

    It also replaces ``paper`` by a copy that carries the effective links, so the page's link pills show the
    links set here instead of the abstract's: merge it *after* the page's own ``paper``."""
    s = library.submissions
    links = s.links(paper)
    user = current_user(request)
    pk = paper.pk or 0
    context: dict[str, Any] = {
        "paper": dataclasses.replace(paper, code_url=links.code_url, project_url=links.project_url),
        "submitter": s.submitted_by([pk]).get(pk),
        "links": links,
        "links_typed": links._asdict(),
        "links_error": None,
        "may_edit_links": user is not None and s.may_edit_links(paper, user.id, is_admin=user.is_admin),
        "submit_notice": NOTICES.get(request.query_params.get("notice", "")),
    }
    return {**context, **extra}
