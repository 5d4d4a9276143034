"""Moderation by admins: ``GET /moderation`` (what was hidden, by whom, when and why, each with an "unhide"
form) and the forms that hide or show a paper again, ``POST /papers/{id}/hide`` and ``/papers/{id}/unhide``.

Hiding a comment is :mod:`dailypapers.web.routes.comments`' (``/comments/{cid}/hide``). A hidden paper is taken off
every list, feed and search by the papers service; its page stays visible to admins, marked as hidden.

The moderation page is no secret — anybody may know that it exists — so a signed-in user who is not an admin
gets 403, and a visitor the log-in page. Every form passes the security layer (CSRF, origin) like any other.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from dailypapers.web.deps import LibraryDep, login_redirect, require_admin
from dailypapers.web.forms import NextField, ReasonField, back_to
from dailypapers.web.markup import comment_html
from dailypapers.web.params import PaperIdPath
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import paper_url, render

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)


@router.get("/moderation", summary="Hidden comments and papers (admins)")
def moderation_page(request: Request, library: LibraryDep) -> Response:
    if current_user(request) is None:
        return login_redirect("/moderation")
    require_admin(request)
    names = {u.id: u.username for u in library.accounts.list_users()}  # who hid each paper (a user id there)
    comments = [(row, comment_html(row.comment)) for row in library.comments.hidden()]
    context = {"hidden_comments": comments, "hidden_papers": library.papers.hidden_list(), "usernames": names}
    return render(request, "moderation.html", context)


@router.post(
    "/papers/{paper_id:path}/hide",
    response_class=RedirectResponse,
    status_code=303,
    summary="Hide a paper from every list, feed and search (admins, HTML form)",
)
def hide_paper(
    request: Request, library: LibraryDep, paper_id: PaperIdPath, reason: ReasonField = "", next_url: NextField = ""
) -> Response:
    admin = require_admin(request)
    paper = library.papers.hide(paper_id, admin.id, reason)
    return back_to(next_url, paper_url(paper.id))


@router.post(
    "/papers/{paper_id:path}/unhide",
    response_class=RedirectResponse,
    status_code=303,
    summary="Show a hidden paper again (admins, HTML form)",
)
def unhide_paper(request: Request, library: LibraryDep, paper_id: PaperIdPath, next_url: NextField = "") -> Response:
    require_admin(request)
    library.papers.unhide(paper_id)
    return back_to(next_url, paper_url(paper_id))


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
