"""The JSON side of accounts: ``GET /api/me``, ``GET /api/csrf`` and API tokens (``/api/tokens``).

Tokens are made, listed and revoked by a signed-in user — through a session (with its CSRF token, like every
unsafe cookie request) or with another API token. A new token's secret is in the creation response only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from dailypapers.accounts.models import ApiToken, User
from dailypapers.web.deps import LibraryDep
from dailypapers.web.responses import allow_head
from dailypapers.web.schemas import ERROR_RESPONSES
from dailypapers.web.security.csrf import CSRF_HEADER, csrf_token
from dailypapers.web.security.identity import current_user, require_user

router = APIRouter(tags=["api"], responses=ERROR_RESPONSES)
UserDep = Annotated[User, Depends(require_user)]


class UserOut(BaseModel):
    username: str
    role: str
    created_at: datetime


class MeOut(BaseModel):
    ok: Literal[True] = True
    user: UserOut | None = Field(description="The signed-in user, or null.")
    csrf_token: str = Field(description=f"For the `{CSRF_HEADER}` header of unsafe requests with this session.")


class CsrfOut(BaseModel):
    ok: Literal[True] = True
    csrf_token: str


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenListOut(BaseModel):
    ok: Literal[True] = True
    tokens: list[TokenOut]


class NewTokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="What the token is for (shown in your list).")


class NewTokenOut(TokenOut):
    ok: Literal[True] = True
    token: str = Field(description="The secret: send it as `Authorization: Bearer <token>`. Shown only now.")


def _user_out(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"username": user.username, "role": user.role, "created_at": user.created_at}


def _token_out(token: ApiToken) -> dict[str, Any]:
    return {k: getattr(token, k) for k in ("id", "name", "created_at", "last_used_at", "revoked_at")}


@router.get("/api/me", response_model=MeOut, summary="Who you are signed in as, and your CSRF token")
def me(request: Request) -> dict[str, Any]:
    return {"ok": True, "user": _user_out(current_user(request)), "csrf_token": csrf_token(request)}


@router.get("/api/csrf", response_model=CsrfOut, summary="Your CSRF token (sets the CSRF cookie on a first visit)")
def csrf(request: Request) -> dict[str, Any]:
    return {"ok": True, "csrf_token": csrf_token(request)}


@router.get("/api/tokens", response_model=TokenListOut, summary="Your API tokens (never their secrets)")
def list_tokens(library: LibraryDep, user: UserDep) -> dict[str, Any]:
    return {"ok": True, "tokens": [_token_out(t) for t in library.accounts.tokens(user)]}


@router.post("/api/tokens", response_model=NewTokenOut, status_code=201, summary="Create an API token")
def create_token(library: LibraryDep, user: UserDep, body: NewTokenIn) -> dict[str, Any]:
    secret, token = library.accounts.create_token(user, body.name)
    return {"ok": True, "token": secret, **_token_out(token)}


@router.delete("/api/tokens/{token_id}", response_model=CsrfOut, summary="Revoke an API token")
def revoke_token(
    request: Request, library: LibraryDep, user: UserDep, token_id: Annotated[str, Path(max_length=50)]
) -> dict[str, Any]:
    library.accounts.revoke_token(user, token_id)
    return {"ok": True, "csrf_token": csrf_token(request)}


allow_head(router)  # HEAD wherever GET (see dailypapers.web.routes.allow_head)
