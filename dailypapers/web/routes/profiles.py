"""Public profiles: ``/users/{username}`` (HTML) and ``/api/users/{username}`` (JSON), one view.

A profile shows the username, the day the account was made, and the papers its user is an approved author of
(authorship claims, :mod:`dailypapers.web.routes.claims`), newest first and paged. Nothing else about the account
(email, role) is shown. The owner also sees their own claims, every status, with a button to withdraw a pending
one. A disabled or unknown user is a 404, and so is an email address in place of the username (the accounts
service finds users by either: a profile URL must not confirm an address).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from dailypapers.accounts.models import User
from dailypapers.errors import NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.serialize import iso_date, paper_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.params import PageParam
from dailypapers.web.responses import Paged
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.security.csrf import csrf_token
from dailypapers.web.security.identity import current_user
from dailypapers.web.views import Html, Json, view
from dailypapers.web.voters import vote_buttons

router = APIRouter(responses=ERROR_RESPONSES)

UsernamePath = Annotated[str, Path(max_length=100, description="The username.", examples=["ada"])]


class ProfileOut(BaseModel):
    username: str
    joined: str = Field(description="The day the account was made (YYYY-MM-DD).")
    total: int = Field(description="Number of papers the user is an approved author of.")
    page: int
    page_size: int
    has_next: bool
    papers: list[PaperOut] = Field(description="This page of those papers, newest first.")


def public_user(library: Library, username: str) -> User:
    """The enabled user with exactly this username; :class:`NotFound` for anything else."""
    try:
        user = library.accounts.get(username)
    except NotFound:
        user = None
    if user is None or user.disabled or user.username != username.strip().lower():
        raise NotFound(f"There is no user '{username[:100]}'.")
    return user


@dataclass
class ProfileView(Paged):
    """A user's public profile: the papers they are an approved author of, a page of them."""

    user: User
    total: int
    page: int
    page_size: int
    papers: list[Paper]


def _context(request: Request, found: ProfileView) -> dict[str, Any]:
    library: Library = request.app.state.library
    viewer = current_user(request)
    user = found.user
    return {
        "profile": user,
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
        "has_next": found.has_next,
        "papers": found.papers,
        "offset": found.offset,
        "pages": found.pages,
        "own_claims": library.claims.claims_of(user.id) if viewer is not None and viewer.id == user.id else None,
        "token": csrf_token(request),
        "json_url": f"/api/users/{user.username}",
        "votes": vote_buttons(request, found.papers),
    }


def _json(request: Request, found: ProfileView) -> dict[str, Any]:
    return {
        "username": found.user.username,
        "joined": iso_date(found.user.created_at.date()),
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
        "has_next": found.has_next,
        "papers": [paper_json(paper) for paper in found.papers],
    }


@view(
    router,
    Html("/users/{username}", "profile.html", _context, summary="A user's public profile (HTML)"),
    Json("/api/users/{username}", ProfileOut, _json, summary="A user's public profile"),
)
def profile(library: LibraryDep, username: UsernamePath, p: PageParam = 1) -> ProfileView:
    """The user's name, joining day and a page of the papers they are an approved author of; the owner also sees
    their claims on the page."""
    user = public_user(library, username)
    size = library.config.page_size
    papers = library.claims.approved_for(user.id, limit=size, offset=(p - 1) * size)
    return ProfileView(user, library.claims.count_approved(user.id), p, size, papers)
