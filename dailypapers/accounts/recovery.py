"""Proving a mailbox: the signed links of password resets and address verification, and what using one changes
(issue 21 #11). Mail-free: :mod:`dailypapers.mail.account_mail` puts the links into emails.

A token is ``itsdangerous.URLSafeTimedSerializer`` under the instance's secret key (HMAC-SHA256), one salt per
purpose, so a verification token opens no reset and the other way round; both expire (``max_age``).

* **Reset** tokens are signed over ``[user id, address, fingerprint of the current password hash]``. Setting a
  password changes the hash (Argon2 salts every hash anew, the same password included), so a used link, and every
  older one, is spent: single use without a table of used tokens (Django's reset tokens work the same way). A
  reset ends every session and revokes every API token, like a change of password; the link also proves the
  mailbox it was sent to, so that address becomes verified.
* **Verification** tokens are signed over ``[user id, address]``. Opening one verifies the account's address when
  it is that one, or makes a pending new address the account's (:meth:`Recovery.verify`) if no other account took
  it meanwhile; a link for an address the account no longer has or waits for is spent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection

from dailypapers.accounts import repository as repo
from dailypapers.accounts.models import User, check_email
from dailypapers.accounts.passwords import check_new_password, hash_password, verify
from dailypapers.db.engine import Database
from dailypapers.db.schema import users
from dailypapers.errors import BadInput, Forbidden

MAX_TOKEN = 500


class BadProof(BadInput):
    """A reset or verification link that is forged, damaged, expired or spent (400; nothing changes)."""


@dataclass(frozen=True)
class Verified:
    """What opening a verification link did: the account now, and its former address when it changed."""

    user: User
    old_email: str | None
    changed: bool  # False: the address was verified before (the link was opened again)


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class Recovery:
    """Signs and applies the reset and verification links of the accounts of ``db``."""

    def __init__(self, db: Database, secret_key: str, *, reset_minutes: int = 60, verify_hours: int = 48) -> None:
        self.db = db
        self.secret_key = secret_key
        self.reset_age = reset_minutes * 60
        self.verify_age = verify_hours * 3600

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        salt = f"dailypapers.account.{purpose}"
        return URLSafeTimedSerializer(self.secret_key, salt=salt, signer_kwargs={"digest_method": hashlib.sha256})

    def _read(self, purpose: str, token: object, max_age: int, size: int) -> list[str]:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            raise BadProof("This link is incomplete or damaged; copy the whole link from the email.")
        try:
            value = self._serializer(purpose).loads(token, max_age=max_age)
        except SignatureExpired:
            raise BadProof("This link has expired; ask for a new one.") from None
        except (BadSignature, UnicodeError, ValueError):
            raise BadProof("This link is not valid: it was not made by this site, or not for this page.") from None
        if not (isinstance(value, list) and len(value) == size and all(isinstance(v, str) for v in value)):
            raise BadProof("This link is not valid: it was not made by this site, or not for this page.")
        return value

    # -- password reset -------------------------------------------------------------------------------------------
    def reset_token(self, user: User) -> str:
        """A reset link's token for ``user`` (spent when the password changes)."""
        with self.db.read() as conn:
            stored = repo.password_hash(conn, user.id) or ""
        token: str = self._serializer("reset").dumps([user.id, user.email, _fingerprint(stored)])
        return token

    def reset_user(self, token: str) -> User:
        """The account a reset link opens (changing nothing); :class:`BadProof` when it does not."""
        with self.db.read() as conn:
            return self._reset_target(conn, token)[0]

    def _reset_target(self, conn: Connection, token: str) -> tuple[User, str]:
        user_id, email, fingerprint = self._read("reset", token, self.reset_age, 3)
        user = repo.user_by_id(conn, user_id)
        stored = repo.password_hash(conn, user_id) or ""
        if user is None or user.disabled or user.email != email or _fingerprint(stored) != fingerprint:
            raise BadProof("This link has been used or replaced by a newer one; ask for a new one.")
        return user, email

    def reset(self, token: str, new: str) -> tuple[User, int]:
        """Set the password of a reset link's account, end all its sessions and revoke its API tokens; the address
        the link came to is verified. Returns the account and how many tokens were revoked."""
        user = self.reset_user(token)
        check_new_password(new, username=user.username, email=user.email)
        hashed = hash_password(new)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            user, _ = self._reset_target(conn, token)  # again, in the write: two uses race, one wins
            verified = {} if user.email_verified else {"email_verified_at": now}
            repo.set_user(conn, user.id, password_hash=hashed, **verified)
            repo.delete_sessions(conn, user.id)
            revoked = repo.revoke_tokens(conn, user.id, now)
        return replace(user, email_verified=True), revoked

    # -- address verification -------------------------------------------------------------------------------------
    def verify_token(self, user: User, email: str) -> str:
        token: str = self._serializer("verify").dumps([user.id, email])
        return token

    def read_verify(self, token: str) -> tuple[str, str]:
        """``(user id, address)`` of a valid verification token; :class:`BadProof` otherwise."""
        user_id, email = self._read("verify", token, self.verify_age, 2)
        return user_id, email

    def verify(self, token: str) -> Verified:
        """Apply a verification link: see the module's docstring."""
        user_id, email = self.read_verify(token)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            self.db.serialize(conn, users)  # the address must still be free when it becomes this account's
            user = repo.user_by_id(conn, user_id)
            if user is None or user.disabled:
                raise BadProof("This link belongs to an account that no longer exists or is disabled.")
            if email == user.email:
                if user.email_verified:
                    return Verified(user, None, False)
                repo.set_user(conn, user.id, email_verified_at=now)
                return Verified(replace(user, email_verified=True), None, True)
            if email != user.pending_email:
                raise BadProof("This link is for an address this account no longer asks for; use the newest email.")
            if repo.taken(conn, "", email):
                raise BadProof("Another account has this address now; it cannot become yours.")
            repo.set_user(conn, user.id, email=email, email_verified_at=now, pending_email=None)
        return Verified(replace(user, email=email, email_verified=True, pending_email=None), user.email, True)

    def request_change(self, user: User, new_email: str, password: str) -> tuple[User, bool]:
        """Ask for ``new_email`` to become the account's address (checking its password): it waits, pending, for its
        verification link. Returns the account and whether a link may be sent (False when another account has the
        address: the answer to the person stays the same, nothing tells them whose it is)."""
        address = check_email(new_email)
        with self.db.read() as conn:
            stored = repo.password_hash(conn, user.id)
        if not verify(stored, password or "")[0]:
            raise Forbidden("The password is wrong; the address was not changed.")
        if address == user.email:
            raise BadInput("That is already this account's address.")
        with self.db.write() as conn:
            free = not repo.taken(conn, "", address)
            repo.set_user(conn, user.id, pending_email=address)
        return replace(user, pending_email=address), free
