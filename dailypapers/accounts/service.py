"""The accounts service: sign-up, log-in, sessions, API tokens, roles and invites. Web and CLI call only this.

Secrets given to people (session cookies, API tokens, invite codes) are random 256-bit values
(``secrets.token_urlsafe(32)``); the database keeps only their SHA-256, so a copy of the database opens nothing.
A plain hash is enough here (unlike passwords): the secrets are random, not guessable words.

* Sessions expire after ``session_days`` without use (sliding: each use at least an hour after the last one
  pushes the expiry on), end at log-out, at "log out everywhere", at a password change (all but the current one)
  and when the user is disabled or deleted. A password change also revokes every API token of the user.
  Logging in always creates a new session (the old cookie, if any, is ended), so a session id planted before
  log-in is worth nothing after it.
* The first user to sign up (or ``dailypapers users create --admin``) is an admin; sign-up is ``open``,
  ``invite`` (an admin's invite code; the default, as a lab instance is invite-only) or ``closed``. With no user
  at all, sign-up is always open: that is how the first admin gets in. Without a valid invite, every refusal is
  the same, so sign-up tells a stranger nothing about who has an account. (Whoever may sign up, in ``open`` mode
  or with a valid invite, still learns that an address is taken: the new account is signed in at once, so the
  answer cannot be the same. The address of an account made by the form is unverified until the link mailed to it
  is opened, :mod:`dailypapers.accounts.recovery`; the owner of an address somebody else signed up with takes that
  account over by "Forgot password?".) The form also refuses the reserved names of :data:`models.RESERVED`.
* Wrong passwords are limited per (account, client) and per account from unknown clients, never locking the
  owner's known browser out (:mod:`dailypapers.accounts.login_limits`).
* A deleted account's comments that others answered stay as ``[deleted]`` placeholders (their owner becomes
  :data:`repository.GHOST_ID`, a row nobody can sign in as), so the replies of others stay with them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from dailypapers.accounts import repository as repo
from dailypapers.accounts.login_limits import LoginLimits
from dailypapers.accounts.models import (
    ROLES,
    ApiToken,
    Session,
    User,
    check_email,
    check_signup_username,
    check_token_name,
    check_username,
)
from dailypapers.accounts.passwords import check_new_password, hash_password, verify
from dailypapers.db.engine import Database
from dailypapers.db.schema import users
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound

SIGNUP_MODES = ("open", "invite", "closed")
TOKEN_PREFIX = "dp_"  # API tokens are recognisable (secret scanners, logs): dp_<43 url-safe characters>
TOUCH_EVERY = timedelta(hours=1)  # a session's last use is written at most hourly: reads stay reads
MAX_TOKENS = 50  # per user: tokens are cheap to make, and a list of hundreds helps nobody
WRONG_LOGIN = "Wrong username or password."
BAD_INVITE = "That invite is unknown, used or expired; ask an admin for a new one."


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    """Users and what they sign in with, on the configured database."""

    def __init__(
        self, db: Database, *, signup: str = "invite", session_days: int = 30, invite_days: int = 14,
        login_limits: LoginLimits | None = None,
    ):  # fmt: skip
        if signup not in SIGNUP_MODES:
            raise ValueError(f"signup must be one of {', '.join(SIGNUP_MODES)}")
        self.db = db
        self.login_limits = login_limits or LoginLimits(db)
        self.signup_mode = signup
        self.session_life = timedelta(days=session_days)
        self.invite_life = timedelta(days=invite_days)

    # -- users --------------------------------------------------------------------------------------------------
    def signup_open(self) -> bool:
        """Whether the sign-up form accepts people without an invite now."""
        return self.signup_mode == "open" or self.user_count() == 0

    def user_count(self) -> int:
        with self.db.read() as conn:
            return repo.count_users(conn)

    def create_user(
        self, username: str, email: str, password: str, *, admin: bool = False, invite: str | None = None,
        via_signup: bool = False,
    ) -> User:  # fmt: skip
        """A new user. ``via_signup``: the public form, which obeys the sign-up mode (and may use ``invite``) and
        refuses reserved names; the CLI creates users directly. The first user of an instance is always an admin.
        An account made by an admin (the CLI) or the first one counts its address as verified; one made through the
        public form must open the link mailed to it (:mod:`dailypapers.accounts.recovery`)."""
        name = check_signup_username(username) if via_signup else check_username(username)
        address = check_email(email)
        check_new_password(password, username=name, email=address)
        hashed = hash_password(password)  # before the transaction: hashing takes ~50 ms and holds no lock
        now = _now()
        with self.db.write() as conn:
            self.db.serialize(conn, users)  # "first user is admin" and the uniqueness checks see every writer
            first = repo.count_users(conn) == 0
            invited = via_signup and not first and self.signup_mode == "invite"
            if via_signup and not first and self.signup_mode != "open":
                if self.signup_mode == "closed":
                    raise Forbidden("Sign-up is closed on this instance; ask an admin for an account.")
                # The invite is checked before any other account is looked at: someone without a valid invite gets
                # the same answer whether or not the name or address has an account here (issue 21 #14).
                if not invite:
                    raise Forbidden("Sign-up needs an invite on this instance; ask an admin for an invite link.")
                if not repo.invite_usable(conn, secret_hash(invite), now):
                    raise Forbidden(BAD_INVITE)
            clash = repo.taken(conn, name, address)
            if clash:
                raise Conflict(f"That {clash} is taken; choose another one.")
            role = "admin" if admin or first else "member"
            user = User(secrets.token_hex(8), name, address, role, False, now, email_verified=first or not via_signup)
            repo.insert_user(conn, user, hashed)
            if invited and not repo.use_invite(conn, secret_hash(invite or ""), user.id, now):
                raise Forbidden(BAD_INVITE)  # taken by a sign-up that committed first: this one rolls back
        return user

    def get(self, username: str) -> User:
        """The user named ``username`` (or with that email); :class:`NotFound` otherwise."""
        with self.db.read() as conn:
            found = repo.user_by_login(conn, (username or "").strip().lower())
        if found is None:
            raise NotFound(f"There is no user '{username[:100]}'.")
        return found[0]

    def by_id(self, user_id: str) -> User | None:
        """The user with this id as stored now (a page shows what a form just changed), or None."""
        with self.db.read() as conn:
            return repo.user_by_id(conn, user_id)

    def list_users(self) -> list[User]:
        with self.db.read() as conn:
            return repo.list_users(conn)

    def authenticate(
        self, login: str, password: str, *, client: str = "", device: tuple[str, str] | None = None
    ) -> User:
        """The user with this username or email and password; :class:`Forbidden` otherwise (one message for an
        unknown user and a wrong password, and the same time spent on both). A hash with outdated parameters is
        replaced by a fresh one.

        Wrong passwords are limited per (account, ``client``) and per account from unknown clients
        (:mod:`dailypapers.accounts.login_limits`, :class:`RateLimited` past either). ``client``: the client's
        address; ``device``: ``(user id, device id)`` of the client's known-device cookie, if any. A device known
        to the account counts by itself: strangers' guesses never lock the owner's browser out."""
        typed = (login or "").strip().lower()[:300]
        with self.db.read() as conn:
            found = repo.user_by_login(conn, typed)
        account = found[0].id if found else "name:" + typed  # username and email of one account: one limit
        known = found is not None and device is not None and device[0] == found[0].id
        who = f"device:{device[1]}" if known and device else f"address:{client}"
        self.login_limits.check(account, who, known=known)
        ok, fresh = verify(found[1] if found else None, password or "")
        if not found or not ok:
            self.login_limits.failed(account, who, known=known)
            raise Forbidden(WRONG_LOGIN)
        user = found[0]
        if user.disabled:
            raise Forbidden("This account is disabled; ask an admin.")
        if fresh:
            with self.db.write() as conn:
                repo.set_user(conn, user.id, password_hash=fresh)
        return user

    def set_password(self, user: User, new: str, *, current: str | None = None, keep_session: str | None = None) -> int:
        """Change the password (checking ``current`` when given), end every other session of the user and revoke
        every API token; returns how many tokens were revoked. Whoever knew the old password may have made a token
        with it, and a token outlives sessions: it must not outlive the password either (issue 21 #22)."""
        check_new_password(new, username=user.username, email=user.email)
        if current is not None:
            with self.db.read() as conn:
                stored = repo.password_hash(conn, user.id)
            if not verify(stored, current)[0]:
                raise Forbidden("The current password is wrong.")
        hashed = hash_password(new)
        with self.db.write() as conn:
            repo.set_user(conn, user.id, password_hash=hashed)
            repo.delete_sessions(conn, user.id, keep=keep_session)
            return repo.revoke_tokens(conn, user.id, _now())

    def set_role(self, user: User, role: str) -> User:
        if role not in ROLES:
            raise BadInput(f"A role is one of {', '.join(ROLES)}.")
        with self.db.write() as conn:
            repo.set_user(conn, user.id, role=role)
        return User(**{**vars(user), "role": role})

    def set_disabled(self, user: User, disabled: bool = True) -> User:
        """Disable (or enable) a user; disabling ends their sessions, and their tokens stop working."""
        with self.db.write() as conn:
            repo.set_user(conn, user.id, disabled=disabled)
            if disabled:
                repo.delete_sessions(conn, user.id)
        return User(**{**vars(user), "disabled": disabled})

    def delete(self, user: User, password: str) -> None:
        """Delete the account (after checking its password), with its sessions, tokens, votes and comments; where
        others replied to one of its comments, the comment stays as a ``[deleted]`` placeholder for their replies."""
        with self.db.read() as conn:
            stored = repo.password_hash(conn, user.id)
        if not verify(stored, password or "")[0]:
            raise Forbidden("The password is wrong; the account was not deleted.")
        with self.db.write() as conn:
            self.db.serialize(conn, users)  # two deletions at once create the keeper of placeholders once
            repo.delete_user(conn, user, _now())

    # -- sessions -----------------------------------------------------------------------------------------------
    def start_session(self, user: User, user_agent: str = "", *, replacing: str | None = None) -> str:
        """A new session for ``user``; returns the cookie secret. ``replacing``: a session cookie the browser had
        before (ended: a log-in never keeps a session id from before it)."""
        secret = secrets.token_urlsafe(32)
        now = _now()
        session = Session(secret_hash(secret), user.id, now, now + self.session_life, now, user_agent[:300])
        with self.db.write() as conn:
            if replacing:
                found = repo.session_with_user(conn, secret_hash(replacing))
                if found:
                    repo.delete_sessions(conn, found[0].user_id, only=found[0].id)
            repo.delete_expired_sessions(conn, now)
            repo.insert_session(conn, session)
        return secret

    def session_user(self, secret: str) -> tuple[Session, User] | None:
        """The live session of this cookie secret and its (enabled) user, or None."""
        if not secret or len(secret) > 100:
            return None
        now = _now()
        with self.db.read() as conn:
            found = repo.session_with_user(conn, secret_hash(secret))
        if found is None or found[0].expires_at <= now or found[1].disabled:
            return None
        session, user = found
        if now - session.last_seen_at >= TOUCH_EVERY:
            with self.db.write() as conn:
                repo.touch_session(conn, session.id, now, now + self.session_life)
        return session, user

    def end_session(self, secret: str) -> None:
        found = self.session_user(secret)
        if found:
            with self.db.write() as conn:
                repo.delete_sessions(conn, found[1].id, only=found[0].id)

    def sessions(self, user: User) -> list[Session]:
        with self.db.read() as conn:
            return repo.user_sessions(conn, user.id, _now())

    def end_sessions(self, user: User, *, only: str | None = None, keep: str | None = None) -> int:
        """End one session of the user (``only``: its id), or all but ``keep``; how many ended."""
        with self.db.write() as conn:
            return repo.delete_sessions(conn, user.id, only=only, keep=keep)

    # -- API tokens ---------------------------------------------------------------------------------------------
    def create_token(self, user: User, name: str) -> tuple[str, ApiToken]:
        """A new API token; returns the secret (shown once, never stored) and its record."""
        label = check_token_name(name)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken("tok_" + secrets.token_hex(6), user.id, label, _now(), None, None)
        with self.db.write() as conn:
            if sum(t.active for t in repo.user_tokens(conn, user.id)) >= MAX_TOKENS:
                raise Conflict(f"You have {MAX_TOKENS} tokens; revoke one before creating another.")
            repo.insert_token(conn, token, secret_hash(secret))
        return secret, token

    def tokens(self, user: User) -> list[ApiToken]:
        with self.db.read() as conn:
            return repo.user_tokens(conn, user.id)

    def revoke_token(self, user: User, token_id: str) -> None:
        with self.db.write() as conn:
            if not repo.set_token(conn, user.id, token_id[:50], revoked_at=_now()):
                raise NotFound(f"You have no token '{token_id[:50]}'.")

    def token_user(self, secret: str) -> User | None:
        """The enabled user of an active API token, or None; the token's last use is recorded (hourly)."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None
        with self.db.read() as conn:
            found = repo.token_owner(conn, secret_hash(secret))
        if found is None or found[1].disabled:
            return None
        token, user = found
        now = _now()
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            with self.db.write() as conn:
                repo.set_token(conn, user.id, token.id, last_used_at=now)
        return user

    # -- invites ------------------------------------------------------------------------------------------------
    def create_invite(self, by: User | None) -> str:
        """A one-use invite code, valid for ``invite_days``; only admins (or the CLI, ``by=None``) make them."""
        if by is not None and not by.is_admin:
            raise Forbidden("Only admins can invite people.")
        code = secrets.token_urlsafe(24)
        now = _now()
        with self.db.write() as conn:
            repo.insert_invite(conn, secret_hash(code), by.id if by else None, now, now + self.invite_life)
        return code
