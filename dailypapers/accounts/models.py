"""The records of the accounts domain: a user, a session, an API token, and the checks on names and addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from dailypapers.errors import BadInput
from dailypapers.papers.text import identity, scripts

ROLES = ("admin", "member")
USERNAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")  # GitHub-like: 1-40 chars, no leading dash
# A pragmatic address check (one @, a dot in the domain, no spaces or controls); the real test of an address is
# the confirmation email of the subscription feature.
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$")
MAX_EMAIL = 254  # RFC 5321 path limit
# Names the public sign-up form refuses: they read as the site itself or its staff (an admin may still create them
# with `dailypapers users create`). The ghost's "[deleted]" fails USERNAME already.
RESERVED = frozenset(
    "dailypapers daily-papers daily_papers admin admins administrator root system staff support help security"
    " moderator moderators mod official owner postmaster hostmaster webmaster abuse noreply no-reply mailer-daemon"
    " api www mail deleted ghost anonymous nobody null account accounts login logout signup settings me".split()
)
MAX_TOKEN_NAME = 100


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str
    role: str
    disabled: bool
    created_at: datetime
    email_verified: bool = False  # whether the address was proven by a link mailed to it (issue 21 #11)
    pending_email: str | None = None  # a new address waiting for its verification link

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
    """``name`` in its stored form (NFKC, invisible characters removed, lower case, trimmed) if it is a valid
    username, else :class:`BadInput`. Letters of two scripts (a Cyrillic "а" among Latin ones) get their own
    sentence: that is how a look-alike of another account's name is made."""
    norm = identity(name or "").strip().lower()
    found = scripts(norm)
    if len(found) > 1:
        raise BadInput(
            f"A username cannot mix alphabets ({' and '.join(s.title() for s in found)} letters): use plain"
            " letters a to z, digits, '-' or '_'."
        )
    if not USERNAME.fullmatch(norm):
        raise BadInput("A username is 1 to 40 letters, digits, '-' or '_', starting and ending with a letter or digit.")
    return norm


def check_signup_username(name: str) -> str:
    """:func:`check_username`, and not one of the :data:`RESERVED` names (the public sign-up form)."""
    norm = check_username(name)
    if norm in RESERVED:
        raise BadInput(f"The username '{norm}' is reserved; choose another one.")
    return norm


def check_email(address: str) -> str:
    """``address`` in its stored form if it is an email address, else :class:`BadInput`.

    NFKC and invisible characters removed first (``alice\u200b@example.org`` is ``alice@example.org``, so it
    meets the account that has that address); then the syntax of email-validator without DNS and without SMTPUTF8:
    the part before the @ must be ASCII, which refuses a Cyrillic "а" there; a non-ASCII domain is stored in its
    IDNA form (``xn--…``), where a look-alike letter shows. Stored lower case (one account per mailbox)."""
    norm = identity(address or "").strip()
    if len(norm) > MAX_EMAIL or not EMAIL.fullmatch(norm):
        raise BadInput("That does not look like an email address (name@example.org).")
    local = norm.rpartition("@")[0]
    if not local.isascii():
        raise BadInput("The part of an email address before the @ must be plain ASCII letters, digits and punctuation.")
    if "=?" in norm:  # an RFC 2047 encoded word: a second spelling of some other mailbox (issue 21 #17)
        raise BadInput("An email address cannot contain an encoded word (=?…?=); type the address itself.")
    try:
        checked = validate_email(norm, check_deliverability=False, allow_smtputf8=False, test_environment=True)
    except EmailNotValidError as exc:
        raise BadInput(f"That is not a valid email address: {exc}") from None
    return f"{checked.local_part}@{checked.ascii_domain}".lower()


def check_token_name(name: str) -> str:
    norm = " ".join((name or "").split())
    if not norm or len(norm) > MAX_TOKEN_NAME or any(ord(c) < 0x20 or ord(c) == 0x7F for c in norm):
        raise BadInput(f"A token name is 1 to {MAX_TOKEN_NAME} printable characters.")
    return norm
