"""The records of the accounts domain: a user, a session, an API token, and the checks on names and addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dailypapers.errors import BadInput

ROLES = ("admin", "member")
USERNAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")  # GitHub-like: 1-40 chars, no leading dash
# A pragmatic address check (one @, a dot in the domain, no spaces or controls); the real test of an address is
# the confirmation email of the subscription feature.
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")
MAX_EMAIL = 254  # RFC 5321 path limit
MAX_TOKEN_NAME = 100


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str
    role: str
    disabled: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def voter(self) -> str:
        """This user's key in the ``votes`` table."""
        return f"user:{self.id}"


@dataclass(frozen=True)
class Session:
    id: str  # the hash of the cookie secret (what the database keys it by)
    user_id: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    user_agent: str


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def check_username(name: str) -> str:
    """``name`` in its stored form (lower case, trimmed) if it is a valid username, else :class:`BadInput`."""
    norm = (name or "").strip().lower()
    if not USERNAME.fullmatch(norm):
        raise BadInput("A username is 1 to 40 letters, digits, '-' or '_', starting and ending with a letter or digit.")
    return norm


def check_email(address: str) -> str:
    """``address`` in its stored form (lower case, trimmed) if it looks like an email address, else BadInput."""
    norm = (address or "").strip().lower()
    if len(norm) > MAX_EMAIL or not EMAIL.fullmatch(norm):
        raise BadInput("That does not look like an email address (name@example.org).")
    return norm


def check_token_name(name: str) -> str:
    norm = " ".join((name or "").split())
    if not norm or len(norm) > MAX_TOKEN_NAME or any(ord(c) < 0x20 or ord(c) == 0x7F for c in norm):
        raise BadInput(f"A token name is 1 to {MAX_TOKEN_NAME} printable characters.")
    return norm
