"""The JSON side of comments: read a paper's threads, comment, edit and delete.

* ``GET /api/comments/{paper id}`` — the threads (anybody);
* ``POST /api/comments/{paper id}`` ``{"body", "parent_id"}`` — a comment or a reply (201);
* ``PATCH /api/comments/item/{cid}`` ``{"body"}`` and ``DELETE /api/comments/item/{cid}`` — the author's.

Writing needs a signed-in user: an API token, or a session with its CSRF token in ``X-CSRF-Token``. Comment text
comes back twice: ``body``, the Markdown source as written (a JSON string: a client that puts it into a page must
escape it), and ``html``, rendered and sanitised. A hidden comment's text is in the answer for admins only.
Not under ``/api/papers/…``: that prefix belongs to the Hugging Face compatible API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.convertors import PathConvertor, register_url_convertor

from dailypapers.accounts.models import User
from dailypapers.community.comments import MAX_BODY, Comment
from dailypapers.errors import NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.deps import LibraryDep
from dailypapers.web.markup import comment_html
from dailypapers.web.responses import allow_head
from dailypapers.web.routes.comments import count_comment, own_comment
from dailypapers.web.schemas import ERROR_RESPONSES, ErrorOut
from dailypapers.web.security.identity import current_user, require_user


class ThreadPaperConvertor(PathConvertor):
    """A paper id (slashes allowed) that is not ``item/…``: those paths are one comment's (no arXiv archive is named
    "item"), so ``POST /api/comments/item/{cid}`` is a 405, not a comment on a paper called ``item/{cid}``."""

    regex = r"(?!item/).+"


register_url_convertor("thread_paper", ThreadPaperConvertor())
router = APIRouter(tags=["api"])
UserDep = Annotated[User, Depends(require_user)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorOut, "description": "Not signed in, or an unknown API token."},
    403: {"model": ErrorOut, "description": "A missing CSRF token, or another user's comment."},
    429: {"model": ErrorOut, "description": "Too many comments; `Retry-After` says when to try again."},
}
PaperIdPath = Annotated[
    str, Path(description="Paper id; a version suffix (`2106.09685v2`) is accepted.", examples=["2106.09685"])
]
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


def _paper(library: Library, paper_id: str) -> Paper:
    paper = library.papers.get(paper_id)
    if paper is None or paper.pk is None:
        raise NotFound(f"No paper has the id '{paper_id[:200]}'.")
    return paper


@router.get(
    "/api/comments/{paper_id:thread_paper}", response_model=ThreadsOut, responses=_ERRORS, summary="A paper's comments"
)
def list_comments(request: Request, library: LibraryDep, paper_id: PaperIdPath) -> dict[str, Any]:
    """Threads oldest first, each a top-level comment with its replies (one level deep), oldest first."""
    paper = _paper(library, paper_id)
    user = current_user(request)
    admin = bool(user and user.is_admin)
    threads = library.comments.for_paper(paper.pk or 0, include_hidden=admin)
    count = sum(t.comment.visible + sum(r.visible for r in t.replies) for t in threads)
    return {
        "ok": True,
        "paper": paper.id,
        "count": count,
        "threads": [
            {**comment_out(t.comment, admin=admin), "replies": [comment_out(r, admin=admin) for r in t.replies]}
            for t in threads
        ],
    }


@router.post(
    "/api/comments/{paper_id:thread_paper}",
    response_model=CommentDoneOut,
    status_code=201,
    responses=_ERRORS,
    summary="Comment on a paper, or reply to a comment",
)
def post_comment(
    request: Request, library: LibraryDep, paper_id: PaperIdPath, sent: CommentIn, user: UserDep
) -> dict[str, Any]:
    """A reply to a reply answers the top-level comment (threads are one level deep)."""
    paper = _paper(library, paper_id)
    count_comment(request, user)
    made = library.comments.add(paper.pk or 0, user.id, sent.body, sent.parent_id or None)
    return {"ok": True, "comment": comment_out(made)}


@router.patch(
    "/api/comments/item/{comment_id}",
    response_model=CommentDoneOut,
    responses=_ERRORS,
    summary="Edit one's comment",
)
def patch_comment(
    request: Request, library: LibraryDep, comment_id: CommentIdPath, sent: CommentEditIn, user: UserDep
) -> dict[str, Any]:
    own_comment(library, comment_id, user)
    count_comment(request, user)
    return {"ok": True, "comment": comment_out(library.comments.edit(comment_id, user.id, sent.body))}


@router.delete(
    "/api/comments/item/{comment_id}", response_model=DeletedOut, responses=_ERRORS, summary="Delete one's comment"
)
def delete_comment(library: LibraryDep, comment_id: CommentIdPath, user: UserDep) -> dict[str, Any]:
    """Removed; a top-level comment with replies stays as a `[deleted]` placeholder until its replies go."""
    library.comments.delete(own_comment(library, comment_id, user).id, user.id)
    return {"ok": True}


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
