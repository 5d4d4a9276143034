"""Comments on the paper page, as plain HTML forms that work without JavaScript (the JSON twin is
:mod:`dailypapers.web.routes.comments_api`).

* ``POST /papers/{id}/comments`` — a new comment, or a reply (``parent_id``); 303 back to ``#c-<comment id>``;
* ``GET /comments/{cid}/edit`` and ``POST /comments/{cid}/edit`` — the author's edit form and its submission;
* ``POST /comments/{cid}/delete`` — the author deletes it;
* ``POST /comments/{cid}/hide`` and ``/unhide`` — admins hide a comment (with a reason) or show it again.

Comments and edits are rate limited (``DAILYPAPERS_COMMENT_RATE_LIMIT``) per user and per client address, in the
database, so every worker counts together. The paper page's comment section is ``_comments.html``; its data is
:func:`comments_context`. Comment text is rendered by :func:`dailypapers.community.markdown.render_markdown`
(sanitised) and wrapped in :class:`~markupsafe.Markup` here, never marked safe in a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.community.comments import MAX_BODY, Comment, Thread
from dailypapers.errors import Forbidden, NotFound, UserError
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import LibraryDep, login_redirect, require_admin
from dailypapers.web.forms import NextField, ReasonField, back_to, safe_next
from dailypapers.web.markup import comment_html
from dailypapers.web.panels import paper_panel
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.identity import current_user
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.templating import paper_url, render

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)

# Generous field limits: the service's own checks give the clear message ("at most 5,000 characters").
BodyField = Annotated[str, Form(max_length=4 * MAX_BODY, description=f"Markdown text, 1 to {MAX_BODY:,} characters.")]
ParentField = Annotated[str, Form(max_length=100, description="The comment this one answers (empty: none).")]
CommentIdPath = Annotated[str, Path(max_length=100, description="A comment's id.")]


@dataclass(frozen=True)
class CommentView:
    """A comment as the page draws it: the comment, its sanitised HTML, and what the viewer may do with it."""

    comment: Comment
    html: Markup
    mine: bool


@dataclass(frozen=True)
class ThreadView:
    comment: CommentView
    replies: list[CommentView]


def _view(comment: Comment, user: User | None) -> CommentView:
    return CommentView(comment, comment_html(comment), user is not None and comment.user_id == user.id)


def thread_views(threads: list[Thread], user: User | None) -> list[ThreadView]:
    return [ThreadView(_view(t.comment, user), [_view(r, user) for r in t.replies]) for t in threads]


@paper_panel(order=20)
def comments_context(request: Request, library: Library, paper: Paper) -> dict[str, Any]:
    """What ``_comments.html`` needs on the page of ``paper``: the threads (hidden ones with their text for an
    admin only), the visible count, and who is looking."""
    user = current_user(request)
    admin = bool(user and user.is_admin)
    threads = library.comments.for_paper(paper.pk or 0, include_hidden=admin) if paper.pk is not None else []
    count = sum(
        (t.comment.visible + sum(r.visible for r in t.replies)) for t in threads
    )  # the same rule as Comments.counts, without a second query
    return {
        "comment_threads": thread_views(threads, user),
        "comment_count": count,
        "comment_user": user,
        "comment_admin": admin,
        "comment_max": MAX_BODY,
        "comment_back": paper_url(paper.id),
    }


def count_comment(request: Request, user: User) -> None:
    """One comment (or edit) against the rate limits of the user and of the client address (429 past either)."""
    limits = request.app.state.rate_limits
    limits.hit("comment", f"user:{user.id}", what="comments")
    limits.hit("comment", client_address(request), what="comments from this address")


def own_comment(library: Library, comment_id: str, user: User) -> Comment:
    """The comment if ``user`` wrote it: NotFound for none (or a deleted one), Forbidden for another's."""
    found = library.comments.get(comment_id)
    if found is None or found.deleted:
        raise NotFound("There is no such comment.")
    if found.user_id != user.id:
        raise Forbidden("Only its author can change or delete a comment.")
    return found


def anchor(comment: Comment) -> str:
    """The comment on its paper's page."""
    return f"{paper_url(comment.paper_id)}#c-{comment.id}"


# -- writing ------------------------------------------------------------------------------------------------------
@router.post(
    "/papers/{paper_id:path}/comments",
    response_class=RedirectResponse,
    status_code=303,
    summary="Comment on a paper, or reply to a comment (HTML form)",
)
def add_comment(
    request: Request,
    library: LibraryDep,
    paper_id: Annotated[str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.")],
    body: BodyField,
    parent_id: ParentField = "",
    next_url: NextField = "",
) -> Response:
    """The comment form of the paper page: 303 to the new comment on ``next`` (default: the paper's page); a
    visitor goes to the log-in page and back."""
    page = safe_next(next_url).partition("#")[0] if next_url else None
    paper = library.papers.get(paper_id)
    if paper is None or paper.pk is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    user = current_user(request)
    if user is None:
        return login_redirect((page or paper_url(paper.id)) + "#comments")
    count_comment(request, user)
    made = library.comments.add(paper.pk, user.id, body, parent_id or None)
    return RedirectResponse(f"{page}#c-{made.id}" if page else anchor(made), status_code=303)


def _edit_page(request: Request, comment: Comment, body: str, status: int = 200, error: str = "") -> Response:
    context = {"comment": comment, "body": body, "error": error, "comment_max": MAX_BODY, "back": anchor(comment)}
    return render(request, "comment_edit.html", context, status_code=status)


@router.get("/comments/{comment_id}/edit", summary="The form to edit one's comment")
def edit_form(request: Request, library: LibraryDep, comment_id: CommentIdPath) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(f"/comments/{quote(comment_id)}/edit")
    comment = own_comment(library, comment_id, user)
    return _edit_page(request, comment, comment.body)


@router.post(
    "/comments/{comment_id}/edit",
    responses={303: {"description": "Back to the comment on its paper's page."}},
    summary="Edit one's comment (HTML form)",
)
def edit_comment(request: Request, library: LibraryDep, comment_id: CommentIdPath, body: BodyField) -> Response:
    """Saves the new text; a mistake (empty, too long) shows the form again with the message and the text."""
    user = current_user(request)
    if user is None:
        return login_redirect(f"/comments/{quote(comment_id)}/edit")
    comment = own_comment(library, comment_id, user)
    try:
        count_comment(request, user)
        edited = library.comments.edit(comment.id, user.id, body)
    except UserError as exc:
        response = _edit_page(request, comment, body, exc.status, exc.message)
        response.headers.update(exc.headers)
        return response
    return RedirectResponse(anchor(edited), status_code=303)


@router.post(
    "/comments/{comment_id}/delete",
    response_class=RedirectResponse,
    status_code=303,
    summary="Delete one's comment (HTML form)",
)
def delete_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, next_url: NextField = ""
) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(next_url or "/")
    comment = own_comment(library, comment_id, user)
    library.comments.delete(comment.id, user.id)
    return back_to(next_url, paper_url(comment.paper_id) + "#comments")


@router.post(
    "/comments/{comment_id}/hide",
    response_class=RedirectResponse,
    status_code=303,
    summary="Hide a comment (admins, HTML form)",
)
def hide_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, reason: ReasonField = "", next_url: NextField = ""
) -> Response:
    admin = require_admin(request)
    hidden = library.comments.hide(comment_id, admin.id, reason)
    return back_to(next_url, anchor(hidden))


@router.post(
    "/comments/{comment_id}/unhide",
    response_class=RedirectResponse,
    status_code=303,
    summary="Show a hidden comment again (admins, HTML form)",
)
def unhide_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, next_url: NextField = ""
) -> Response:
    require_admin(request)
    found = library.comments.get(comment_id)
    library.comments.unhide(comment_id)
    return back_to(next_url, anchor(found) if found else "/moderation")


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
