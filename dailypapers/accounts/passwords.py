"""Password hashing with Argon2id (argon2-cffi), and the rules a new password must meet.

argon2-cffi's defaults follow RFC 9106's second recommended option (Argon2id, 64 MiB, 3 passes, 4 lanes).
:func:`verify` also says when a stored hash was made with other parameters than today's, so the caller can store
a fresh hash at the next successful log-in (the parameters can be raised without anyone resetting a password).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dailypapers.errors import BadInput

MIN_LENGTH = 8  # NIST SP 800-63B §5.1.1.2: at least 8 characters for a memorised secret chosen by the user
MAX_LENGTH = 1024  # bounds the work one log-in request can cost; far beyond any pass phrase

_hasher = PasswordHasher()
# A hash of a random password: verifying against it when a user does not exist costs the same time as a real
# check, so the answer's timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password: timing equaliser")


def check_new_password(password: str, *, username: str = "") -> str:
    """``password`` if it is acceptable as a new password, else :class:`BadInput` saying why."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise BadInput(f"A password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise BadInput(f"A password must be at most {MAX_LENGTH} characters long.")
    if username and password.strip().lower() == username.lower():
        raise BadInput("A password must not be the username.")
    return password


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string format) to store for ``password``."""
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored_hash``, and a new hash to store when the old one's parameters are
    outdated. ``stored_hash=None`` (no such user) takes as long as a real check and never matches."""
    if len(password) > MAX_LENGTH:
        return False, None
    try:
        _hasher.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored_hash) else None)
