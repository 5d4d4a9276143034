"""Comments on a paper: the paper page's section and its plain HTML forms (they work without JavaScript), and the
same actions as JSON.

Pages and forms:

* ``POST /papers/{id}/comments`` — a new comment, or a reply (``parent_id``); 303 back to ``#c-<comment id>``;
* ``GET /comments/{cid}/edit`` and ``POST /comments/{cid}/edit`` — the author's edit form and its submission;
* ``POST /comments/{cid}/delete`` — the author deletes it;
* ``POST /comments/{cid}/hide`` and ``/unhide`` — admins hide a comment (with a reason) or show it again.

JSON (not under ``/api/papers/…``: that prefix belongs to the Hugging Face compatible API):

* ``GET /api/comments/{paper id}`` — the threads (anybody);
* ``POST /api/comments/{paper id}`` ``{"body", "parent_id"}`` — a comment or a reply (201);
* ``PATCH /api/comments/item/{cid}`` ``{"body"}`` and ``DELETE /api/comments/item/{cid}`` — the author's.

A form and its JSON twin make the same service call (:func:`_add`, :func:`_edit`, :func:`_delete`). Writing needs
a signed-in user: a session (the forms carry its CSRF token; JSON sends it in ``X-CSRF-Token``) or an API token.
Comments and edits are rate limited (``DAILYPAPERS_COMMENT_RATE_LIMIT``) per user and per client address, in the
database, so every worker counts together. The paper page's comment section is ``_comments.html``; its data is
:func:`comments_context`. Comment text is rendered by :func:`dailypapers.web.markup.comment_html` (sanitised),
never marked safe in a template; the JSON answers carry it twice: ``body``, the Markdown source as written (a JSON
string: a client that puts it into a page must escape it), and ``html``. A hidden comment's text is shown to
admins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from pydantic import BaseModel, Field
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.community.comments import MAX_BODY, Comment, Thread
from dailypapers.errors import Forbidden, NotFound, UserError
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import LibraryDep, UserDep, login_redirect, require_admin
from dailypapers.web.forms import NextField, ReasonField, back_to, safe_next
from dailypapers.web.markup import comment_html
from dailypapers.web.panels import paper_panel
from dailypapers.web.params import PaperIdPath
from dailypapers.web.schemas import ERROR_RESPONSES, ErrorOut
from dailypapers.web.security.identity import current_user
from dailypapers.web.security.ratelimit import client_address
from dailypapers.web.templating import paper_url, render
from dailypapers.web.views import Html, Json, view


class ThreadPaperConvertor(PathConvertor):
    """A paper id (slashes allowed) that is not ``item/…``: those paths are one comment's (no arXiv archive is named
    "item"), so ``POST /api/comments/item/{cid}`` is a 405, not a comment on a paper called ``item/{cid}``."""

    regex = r"(?!item/).+"


register_url_convertor("thread_paper", ThreadPaperConvertor())
router = APIRouter(responses=ERROR_RESPONSES)

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not signed in, or an unknown API token."},
    403: {"model": ErrorOut, "description": "A missing CSRF token, or another user's comment."},
    429: {"model": ErrorOut, "description": "Too many comments; `Retry-After` says when to try again."},
}
# Generous field limits: the service's own checks give the clear message ("at most 5,000 characters").
BodyField = Annotated[str, Form(max_length=4 * MAX_BODY, description=f"Markdown text, 1 to {MAX_BODY:,} characters.")]
ParentField = Annotated[str, Form(max_length=100, description="The comment this one answers (empty: none).")]
CommentIdPath = Annotated[str, Path(max_length=100, description="A comment's id.")]
_BODY = f"Markdown: emphasis, links, code, lists, quotes. 1 to {MAX_BODY:,} characters."


class CommentIn(BaseModel):
    body: str = Field(max_length=4 * MAX_BODY, description=_BODY)
    parent_id: str | None = Field(default=None, max_length=100, description="The comment this one answers.")


class CommentEditIn(BaseModel):
    body: str = Field(max_length=4 * MAX_BODY, description=_BODY)


class CommentOut(BaseModel):
    id: str
    paper: str = Field(description="The paper's id.")
    author: str = Field(description="The author's username.")
    parent_id: str | None
    body: str = Field(description="Markdown source; empty when deleted, or hidden (except for admins).")
    html: str = Field(description="`body` rendered and sanitised (links are http, https or mailto only).")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool
    hidden_by: str | None = Field(default=None, description="Admins only: who hid it.")
    hidden_reason: str | None = Field(default=None, description="Admins only: why.")


class ThreadOut(CommentOut):
    replies: list[CommentOut]


class ThreadsOut(BaseModel):
    ok: Literal[True] = True
    paper: str
    count: int = Field(description="Comments everybody sees (neither deleted nor hidden).")
    threads: list[ThreadOut]


class CommentDoneOut(BaseModel):
    ok: Literal[True] = True
    comment: CommentOut


class DeletedOut(BaseModel):
    ok: Literal[True] = True


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


@dataclass
class Threads:
    """A paper's comment threads as ``user`` may see them (hidden ones with their text for an admin only)."""

    paper: Paper
    user: User | None
    admin: bool
    threads: list[Thread]

    @property
    def count(self) -> int:
        """Comments everybody sees: the same rule as ``Comments.counts``, without a second query."""
        return sum(t.comment.visible + sum(r.visible for r in t.replies) for t in self.threads)


def _threads(request: Request, library: Library, paper: Paper) -> Threads:
    user = current_user(request)
    admin = bool(user and user.is_admin)
    threads = library.comments.for_paper(paper.pk, include_hidden=admin) if paper.pk is not None else []
    return Threads(paper, user, admin, threads)


def _view(comment: Comment, user: User | None) -> CommentView:
    return CommentView(comment, comment_html(comment), user is not None and comment.user_id == user.id)


@paper_panel(order=20)
def comments_context(request: Request, library: Library, paper: Paper) -> dict[str, Any]:
    """What ``_comments.html`` needs on the page of ``paper``: the threads, the visible count, who is looking."""
    found = _threads(request, library, paper)
    user = found.user
    views = [ThreadView(_view(t.comment, user), [_view(r, user) for r in t.replies]) for t in found.threads]
    return {
        "comment_threads": views,
        "comment_count": found.count,
        "comment_user": user,
        "comment_admin": found.admin,
        "comment_max": MAX_BODY,
        "comment_back": paper_url(paper.id),
    }


def comment_out(comment: Comment, *, admin: bool = False) -> dict[str, Any]:
    c = comment
    out = {
        "id": c.id,
        "paper": c.paper_id,
        "author": c.author,
        "parent_id": c.parent_id,
        "body": c.body,
        "html": str(comment_html(c)),
        "created_at": c.created_at,
        "edited_at": c.edited_at,
        "deleted": c.deleted,
        "hidden": c.hidden,
    }
    if admin and c.hidden:
        out |= {"hidden_by": c.hidden_by, "hidden_reason": c.hidden_reason}
    return out


def _threads_json(request: Request, found: Threads) -> dict[str, Any]:
    admin = found.admin
    threads = [
        {**comment_out(t.comment, admin=admin), "replies": [comment_out(r, admin=admin) for r in t.replies]}
        for t in found.threads
    ]
    return {"ok": True, "paper": found.paper.id, "count": found.count, "threads": threads}


# -- the service calls a form and its JSON twin share -------------------------------------------------------------
def _paper(library: Library, paper_id: str) -> Paper:
    paper = library.papers.get(paper_id)
    if paper is None or paper.pk is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    return paper


def _count(request: Request, user: User) -> None:
    """One comment (or edit) against the rate limits of the user and of the client address (429 past either)."""
    limits = request.app.state.rate_limits
    limits.hit("comment", f"user:{user.id}", what="comments")
    limits.hit("comment", client_address(request), what="comments from this address")


def _own(library: Library, comment_id: str, user: User) -> Comment:
    """The comment if ``user`` wrote it: NotFound for none (or a deleted one), Forbidden for another's."""
    found = library.comments.get(comment_id)
    if found is None or found.deleted:
        raise NotFound("There is no such comment.")
    if found.user_id != user.id:
        raise Forbidden("Only its author can change or delete a comment.")
    return found


def _add(request: Request, library: Library, paper: Paper, user: User, body: str, parent_id: str | None) -> Comment:
    _count(request, user)
    return library.comments.add(paper.pk or 0, user.id, body, parent_id or None)


def _edit(request: Request, library: Library, comment: Comment, user: User, body: str) -> Comment:
    _count(request, user)
    return library.comments.edit(comment.id, user.id, body)


def _delete(library: Library, comment_id: str, user: User) -> Comment:
    comment = _own(library, comment_id, user)
    library.comments.delete(comment.id, user.id)
    return comment


def anchor(comment: Comment) -> str:
    """The comment on its paper's page."""
    return f"{paper_url(comment.paper_id)}#c-{comment.id}"


# -- JSON ---------------------------------------------------------------------------------------------------------
@view(
    router, Json("/api/comments/{paper_id:thread_paper}", ThreadsOut, _threads_json, summary="A paper's comments"),
    responses=_ERRORS,
)  # fmt: skip
def list_comments(request: Request, library: LibraryDep, paper_id: PaperIdPath) -> Threads:
    """Threads oldest first, each a top-level comment with its replies (one level deep), oldest first."""
    return _threads(request, library, _paper(library, paper_id))


@router.post("/api/comments/{paper_id:thread_paper}", response_model=CommentDoneOut, status_code=201,
             responses=_ERRORS, tags=["api"], summary="Comment on a paper, or reply to a comment")  # fmt: skip
def post_comment(
    request: Request, library: LibraryDep, paper_id: PaperIdPath, sent: CommentIn, user: UserDep
) -> dict[str, Any]:
    """A reply to a reply answers the top-level comment (threads are one level deep)."""
    made = _add(request, library, _paper(library, paper_id), user, sent.body, sent.parent_id)
    return {"ok": True, "comment": comment_out(made)}


@router.patch("/api/comments/item/{comment_id}", response_model=CommentDoneOut, responses=_ERRORS, tags=["api"],
              summary="Edit one's comment")  # fmt: skip
def patch_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, sent: CommentEditIn, user: UserDep
) -> dict[str, Any]:
    edited = _edit(request, library, _own(library, comment_id, user), user, sent.body)
    return {"ok": True, "comment": comment_out(edited)}


@router.delete("/api/comments/item/{comment_id}", response_model=DeletedOut, responses=_ERRORS, tags=["api"],
               summary="Delete one's comment")  # fmt: skip
def api_delete_comment(library: LibraryDep, comment_id: CommentIdPath, user: UserDep) -> dict[str, Any]:
    """Removed; a top-level comment with replies stays as a `[deleted]` placeholder until its replies go."""
    _delete(library, comment_id, user)
    return {"ok": True}


# -- forms --------------------------------------------------------------------------------------------------------
@router.post("/papers/{paper_id:path}/comments", response_class=RedirectResponse, status_code=303, tags=["pages"],
             summary="Comment on a paper, or reply to a comment (HTML form)")  # fmt: skip
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
    paper = _paper(library, paper_id)
    user = current_user(request)
    if user is None:
        return login_redirect((page or paper_url(paper.id)) + "#comments")
    made = _add(request, library, paper, user, body, parent_id)
    return RedirectResponse(f"{page}#c-{made.id}" if page else anchor(made), status_code=303)


def _edit_context(comment: Comment, body: str, error: str = "") -> dict[str, Any]:
    return {"comment": comment, "body": body, "error": error, "comment_max": MAX_BODY, "back": anchor(comment)}


@view(router, Html("/comments/{comment_id}/edit", "comment_edit.html", summary="The form to edit one's comment"))
def edit_form(request: Request, library: LibraryDep, comment_id: CommentIdPath) -> dict[str, Any] | Response:
    user = current_user(request)
    if user is None:
        return login_redirect(f"/comments/{quote(comment_id)}/edit")
    comment = _own(library, comment_id, user)
    return _edit_context(comment, comment.body)


@router.post("/comments/{comment_id}/edit", response_class=HTMLResponse, tags=["pages"],
             responses={303: {"description": "Back to the comment on its paper's page."}},
             summary="Edit one's comment (HTML form)")  # fmt: skip
def edit_comment(request: Request, library: LibraryDep, comment_id: CommentIdPath, body: BodyField) -> Response:
    """Saves the new text; a mistake (empty, too long) shows the form again with the message and the text."""
    user = current_user(request)
    if user is None:
        return login_redirect(f"/comments/{quote(comment_id)}/edit")
    comment = _own(library, comment_id, user)
    try:
        edited = _edit(request, library, comment, user, body)
    except UserError as exc:
        response = render(request, "comment_edit.html", _edit_context(comment, body, exc.message), exc.status)
        response.headers.update(exc.headers)
        return response
    return RedirectResponse(anchor(edited), status_code=303)


@router.post("/comments/{comment_id}/delete", response_class=RedirectResponse, status_code=303, tags=["pages"],
             summary="Delete one's comment (HTML form)")  # fmt: skip
def delete_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, next_url: NextField = ""
) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(next_url or "/")
    comment = _delete(library, comment_id, user)
    return back_to(next_url, paper_url(comment.paper_id) + "#comments")


@router.post("/comments/{comment_id}/hide", response_class=RedirectResponse, status_code=303, tags=["pages"],
             summary="Hide a comment (admins, HTML form)")  # fmt: skip
def hide_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, reason: ReasonField = "", next_url: NextField = ""
) -> Response:
    admin = require_admin(request)
    hidden = library.comments.hide(comment_id, admin.id, reason)
    return back_to(next_url, anchor(hidden))


@router.post("/comments/{comment_id}/unhide", response_class=RedirectResponse, status_code=303, tags=["pages"],
             summary="Show a hidden comment again (admins, HTML form)")  # fmt: skip
def unhide_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, next_url: NextField = ""
) -> Response:
    require_admin(request)
    found = library.comments.get(comment_id)
    library.comments.unhide(comment_id)
    return back_to(next_url, anchor(found) if found else "/moderation")
