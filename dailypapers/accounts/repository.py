"""Every query of the accounts domain, written once with SQLAlchemy Core for both backends.

Functions take an open :class:`sqlalchemy.Connection` (a read or a write transaction of
:class:`dailypapers.db.engine.Database`), so the service decides what runs in one transaction.

One row of ``users`` is nobody's account: :data:`GHOST_ID` keeps the comments of deleted accounts that others
answered (``comments.user_id`` must name a user; GitHub keeps such content under its "ghost" user the same way).
Its username and email fail the sign-up checks, its password hash matches nothing and it is disabled, so nobody
can sign in as it; counts, lists and look-ups of users leave it out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, insert, or_, select, update

from dailypapers.accounts.models import ApiToken, Session, User
from dailypapers.db.schema import api_tokens, comments, invites, sessions, users, votes

GHOST_ID = "deleted"  # not 16 hex digits: no account's id (secrets.token_hex(8)) can be it
GHOST_NAME = "[deleted]"  # what pages and the API show as the author of a deleted account's placeholders
_PEOPLE = users.c.id != GHOST_ID
_USER_COLUMNS = (
    users.c.id, users.c.username, users.c.email, users.c.role, users.c.disabled, users.c.created_at,
    users.c.email_verified_at, users.c.pending_email,
)  # fmt: skip


def _user(row: Any, prefix: str = "") -> User:
    m = row._mapping
    values = [m[prefix + c.name] for c in _USER_COLUMNS]
    ident, name, email, role, disabled, created, verified_at, pending = values
    return User(ident, name, email, role, bool(disabled), created, verified_at is not None, pending)


# -- users --------------------------------------------------------------------------------------------------------
def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users).where(_PEOPLE)).scalar_one())


def user_by_id(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def user_by_login(conn: Connection, login: str) -> tuple[User, str] | None:
    """The user whose username or email is ``login`` (already lower-cased), with the password hash."""
    row = conn.execute(
        select(*_USER_COLUMNS, users.c.password_hash).where(
            or_(users.c.username == login, users.c.email == login), _PEOPLE
        )
    ).first()
    return (_user(row), row.password_hash) if row else None


def password_hash(conn: Connection, user_id: str) -> str | None:
    return conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar_one_or_none()


def taken(conn: Connection, username: str, email: str) -> str | None:
    """Which of ``username`` / ``email`` another user already has ("username", "email" or None)."""
    rows = conn.execute(
        select(users.c.username, users.c.email).where(or_(users.c.username == username, users.c.email == email))
    ).all()
    if any(r.username == username for r in rows):
        return "username"
    return "email" if rows else None


def insert_user(conn: Connection, user: User, hashed: str) -> None:
    conn.execute(
        insert(users).values(
            id=user.id,
            username=user.username,
            email=user.email,
            password_hash=hashed,
            role=user.role,
            disabled=user.disabled,
            created_at=user.created_at,
            email_verified_at=user.created_at if user.email_verified else None,
        )
    )


def list_users(conn: Connection) -> list[User]:
    query = select(*_USER_COLUMNS).where(_PEOPLE).order_by(users.c.created_at, users.c.username)
    return [_user(r) for r in conn.execute(query)]


def set_user(conn: Connection, user_id: str, **values: Any) -> None:
    """Update columns of one user (``password_hash``, ``role``, ``disabled``)."""
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def delete_user(conn: Connection, user: User, now: datetime) -> None:
    """The user, their sessions and tokens (deleted here, not left to ``ON DELETE CASCADE``: SQLite enforces foreign
    keys only on connections that turn them on), their votes (a vote is theirs; counts drop with them) and their
    comments, except those others answered (:func:`_leave_comments`)."""
    conn.execute(delete(votes).where(votes.c.voter == user.voter))
    conn.execute(delete(sessions).where(sessions.c.user_id == user.id))
    conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user.id))
    _leave_comments(conn, user.id, now)
    conn.execute(delete(users).where(users.c.id == user.id))


def _leave_comments(conn: Connection, user_id: str, now: datetime) -> None:
    """Take a leaving user's comments by the rules of their own deletion (``community.comments.Comments.delete``),
    all at once: a comment goes, unless others replied to it; then it stays as a ``[deleted]`` placeholder (text
    erased, owned by :data:`GHOST_ID`) so their replies keep their place. A placeholder whose last reply goes, goes.
    Before, ``comments.user_id``'s ``ON DELETE CASCADE`` took other people's replies along (issue 21 #19)."""
    reply = comments.alias("reply")

    def answered(*by: Any) -> Any:
        return exists().where(reply.c.parent_id == comments.c.id, *by)

    mine = comments.c.user_id == user_id
    placeholder = and_(comments.c.parent_id.is_(None), comments.c.deleted_at.is_not(None))
    # placeholders (anyone's) that only this user's replies kept, then those replies, then what nobody answered
    only_theirs = and_(answered(reply.c.user_id == user_id), ~answered(reply.c.user_id != user_id))
    conn.execute(delete(comments).where(placeholder, only_theirs))
    conn.execute(delete(comments).where(mine, comments.c.parent_id.is_not(None)))
    conn.execute(delete(comments).where(mine, ~answered()))
    if conn.execute(select(exists().where(mine))).scalar():
        _ensure_ghost(conn, now)
        gone = {"user_id": GHOST_ID, "body": "", "deleted_at": func.coalesce(comments.c.deleted_at, now)}
        conn.execute(update(comments).where(mine).values(**gone))


def _ensure_ghost(conn: Connection, now: datetime) -> None:
    """The keeper of placeholders, made on first need (the caller serialises writers of ``users``)."""
    if conn.execute(select(users.c.id).where(users.c.id == GHOST_ID)).first() is None:
        ghost = User(GHOST_ID, GHOST_NAME, GHOST_NAME, "member", True, now)
        insert_user(conn, ghost, "!")  # "!" is no Argon2 hash: verify() never matches it


# -- sessions -----------------------------------------------------------------------------------------------------
def insert_session(conn: Connection, session: Session) -> None:
    conn.execute(insert(sessions).values(**vars(session)))


def session_with_user(conn: Connection, session_id: str) -> tuple[Session, User] | None:
    row = conn.execute(
        select(sessions, *(c.label(f"u_{c.name}") for c in _USER_COLUMNS))
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id == session_id)
    ).first()
    if row is None:
        return None
    m = row._mapping
    session = Session(*(m[c] for c in ("id", "user_id", "created_at", "expires_at", "last_seen_at", "user_agent")))
    return session, _user(row, "u_")


def touch_session(conn: Connection, session_id: str, now: datetime, expires_at: datetime) -> None:
    conn.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now, expires_at=expires_at))


def user_sessions(conn: Connection, user_id: str, now: datetime) -> list[Session]:
    rows = conn.execute(
        select(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.expires_at > now)
        .order_by(sessions.c.last_seen_at.desc())
    )
    return [Session(**r._mapping) for r in rows]


def delete_sessions(conn: Connection, user_id: str, *, only: str | None = None, keep: str | None = None) -> int:
    """End the user's sessions: just ``only`` when given, else all but ``keep``; return how many ended."""
    where = [sessions.c.user_id == user_id]
    if only is not None:
        where.append(sessions.c.id == only)
    if keep is not None:
        where.append(sessions.c.id != keep)
    return int(conn.execute(delete(sessions).where(and_(*where))).rowcount or 0)


def delete_expired_sessions(conn: Connection, now: datetime) -> int:
    return int(conn.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount or 0)


# -- API tokens ---------------------------------------------------------------------------------------------------
_TOKEN_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.user_id,
    api_tokens.c.name,
    api_tokens.c.created_at,
    api_tokens.c.last_used_at,
    api_tokens.c.revoked_at,
)


def insert_token(conn: Connection, token: ApiToken, token_hash: str) -> None:
    conn.execute(insert(api_tokens).values(**vars(token), token_hash=token_hash))


def user_tokens(conn: Connection, user_id: str) -> list[ApiToken]:
    rows = conn.execute(
        select(*_TOKEN_COLUMNS).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.created_at.desc())
    )
    return [ApiToken(**r._mapping) for r in rows]


def token_owner(conn: Connection, token_hash: str) -> tuple[ApiToken, User] | None:
    """The active token with this hash and its user."""
    row = conn.execute(
        select(*_TOKEN_COLUMNS, *(c.label(f"u_{c.name}") for c in _USER_COLUMNS))
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    m = row._mapping
    token = ApiToken(*(m[c.name] for c in _TOKEN_COLUMNS))
    return token, _user(row, "u_")


def set_token(conn: Connection, user_id: str, token_id: str, **values: Any) -> int:
    where = and_(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
    return int(conn.execute(update(api_tokens).where(where).values(**values)).rowcount or 0)


def revoke_tokens(conn: Connection, user_id: str, now: datetime) -> int:
    """Revoke every active token of the user; how many were active."""
    active = and_(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
    return int(conn.execute(update(api_tokens).where(active).values(revoked_at=now)).rowcount or 0)


# -- invites ------------------------------------------------------------------------------------------------------
def insert_invite(conn: Connection, invite_id: str, created_by: str | None, now: datetime, expires: datetime) -> None:
    conn.execute(insert(invites).values(id=invite_id, created_by=created_by, created_at=now, expires_at=expires))


def invite_usable(conn: Connection, invite_id: str, now: datetime) -> bool:
    """Whether the invite exists, is unused and unexpired (:func:`use_invite` still decides, atomically)."""
    usable = and_(invites.c.id == invite_id, invites.c.used_at.is_(None), invites.c.expires_at > now)
    return bool(conn.execute(select(exists().where(usable))).scalar())


def use_invite(conn: Connection, invite_id: str, user_id: str, now: datetime) -> bool:
    """Mark the invite used by ``user_id`` if it is unused and unexpired; whether it was."""
    result = conn.execute(
        update(invites)
        .where(invites.c.id == invite_id, invites.c.used_at.is_(None), invites.c.expires_at > now)
        .values(used_by=user_id, used_at=now)
    )
    return bool(result.rowcount)
