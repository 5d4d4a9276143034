"""Public profiles: ``/users/{username}`` (HTML) and ``/api/users/{username}`` (JSON).

A profile shows the username, the day the account was made, and the papers its user is an approved author of
(authorship claims, :mod:`dailypapers.web.routes.claims`), newest first and paged. Nothing else about the account
(email, role) is shown. The owner also sees their own claims, every status, with a button to withdraw a pending
one. A disabled or unknown user is a 404, and so is an email address in place of the username (the accounts
service finds users by either: a profile URL must not confirm an address).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from dailypapers.accounts.models import User
from dailypapers.errors import NotFound
from dailypapers.library import Library
from dailypapers.serialize import iso_date, paper_json
from dailypapers.web.deps import LibraryDep
from dailypapers.web.params import PageParam
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.security.csrf import csrf_token
from dailypapers.web.security.identity import current_user
from dailypapers.web.templating import render
from dailypapers.web.voters import vote_buttons

router = APIRouter(tags=["pages"], responses=ERROR_RESPONSES, default_response_class=HTMLResponse)
api_router = APIRouter(prefix="/api", tags=["api"], responses=ERROR_RESPONSES)

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


def profile_data(library: Library, user: User, page: int) -> dict[str, Any]:
    size = library.config.page_size
    total = library.claims.count_approved(user.id)
    papers = library.claims.approved_for(user.id, limit=size, offset=(page - 1) * size)
    return {"total": total, "page": page, "page_size": size, "has_next": page * size < total, "papers": papers}


@router.get("/users/{username}", response_model=None, summary="A user's public profile (HTML)")
def profile_page(request: Request, library: LibraryDep, username: UsernamePath, p: PageParam = 1) -> Response:
    """The user's name, joining day and claimed papers; the owner also sees their claims."""
    user = public_user(library, username)
    data = profile_data(library, user, p)
    viewer = current_user(request)
    context = {
        "profile": user,
        **data,
        "offset": (p - 1) * data["page_size"],
        "pages": max(1, -(-data["total"] // data["page_size"])),
        "own_claims": library.claims.claims_of(user.id) if viewer is not None and viewer.id == user.id else None,
        "token": csrf_token(request),
        "json_url": f"/api/users/{user.username}",
        "votes": vote_buttons(request, data["papers"]),
    }
    return render(request, "profile.html", context)


@api_router.get("/users/{username}", response_model=ProfileOut, summary="A user's public profile")
def api_profile(library: LibraryDep, username: UsernamePath, p: PageParam = 1) -> dict[str, Any]:
    """The user's name, joining day and a page of the papers they are an approved author of."""
    user = public_user(library, username)
    data = profile_data(library, user, p)
    return {
        "username": user.username,
        "joined": iso_date(user.created_at.date()),
        **data,
        "papers": [paper_json(paper) for paper in data["papers"]],
    }


allow_head(router)
allow_head(api_router)
