"""Password hashing with Argon2id (argon2-cffi), and the rules a new password must meet.

argon2-cffi's defaults follow RFC 9106's second recommended option (Argon2id, 64 MiB, 3 passes, 4 lanes).
:func:`verify` also says when a stored hash was made with other parameters than today's, so the caller can store
a fresh hash at the next successful log-in (the parameters can be raised without anyone resetting a password).

A new password must resist guessing (NIST SP 800-63B §5.1.1.2: refuse "commonly-used, expected, or compromised"
values and context-specific words such as the username). zxcvbn (Dropbox's estimator, kept as the ``zxcvbn``
package) scores it against common passwords, names, keyboard patterns, repeats, dates and the account's own
username and email address, and says why a password is weak; that sentence goes back to the person.
"""

from __future__ import annotations

import re
import threading

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from dailypapers.errors import BadInput

MIN_LENGTH = 8  # NIST SP 800-63B §5.1.1.2: at least 8 characters for a memorised secret chosen by the user
MAX_LENGTH = 1024  # bounds the work one log-in request can cost; far beyond any pass phrase
# zxcvbn's score 3 ("safely unguessable"): about 10^8 guesses or more. Score 2 (10^6) falls to an offline attack
# on one stolen Argon2id hash in hours; 3 is what zxcvbn's authors advise where a hash may leak.
MIN_SCORE = 3
ESTIMATE_LENGTH = 72  # zxcvbn's own limit (its matching grows faster than the length); longer ones: the first 72
# zxcvbn keeps the current user inputs in a module-level dictionary while it scores: one scoring at a time, or two
# sign-ups at once would be judged against each other's names. A scoring takes 1-200 ms.
_zxcvbn_lock = threading.Lock()

# argon2-cffi's profiles by the names of DAILYPAPERS_PASSWORD_HASH. RFC 9106 §4: the low-memory option (64 MiB,
# 3 passes, 4 lanes) is the library's default; the high-memory one (2 GiB, 1 pass) is the RFC's first choice where
# every log-in may take 2 GiB; "cheapest" (8 KiB, 1 pass) exists for test suites, where 0.15-0.4 s a hash was an
# eighth of the web tests' time. A hash records its parameters, so any profile verifies the others' hashes, and a
# log-in under a stronger profile rehashes (``verify`` returns the new hash).
PROFILES: dict[str, Parameters] = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
DEFAULT_PROFILE = "rfc9106-low-memory"
_hasher = PasswordHasher.from_parameters(PROFILES[DEFAULT_PROFILE])
_dummy_hashes: dict[str, str] = {}


def use_profile(name: str) -> None:
    """Hash new passwords with the argon2-cffi profile ``name`` (a key of :data:`PROFILES`) in this process."""
    global _hasher
    if name not in PROFILES:
        raise BadInput(f"unknown password hash profile {name!r}: one of {', '.join(PROFILES)}")
    _hasher = PasswordHasher.from_parameters(PROFILES[name])


def _dummy_hash() -> str:
    """A hash of a random password under today's parameters: verifying against it when a user does not exist costs
    the same time as a real check, so the answer's timing does not tell which usernames exist. Made on first use,
    not at import (every web worker and CLI process imports this module)."""
    key = f"{_hasher.memory_cost}:{_hasher.time_cost}:{_hasher.parallelism}"
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash("not a password: timing equaliser")
    return _dummy_hashes[key]


def check_new_password(password: str, *, username: str = "", email: str = "") -> str:
    """``password`` if it is acceptable as a new password for the account of ``username`` and ``email``, else
    :class:`BadInput` with a sentence saying why."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise BadInput(f"A password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise BadInput(f"A password must be at most {MAX_LENGTH} characters long.")
    folded = password.strip().casefold()
    if username and folded == username.casefold():
        raise BadInput("A password must not be the username.")
    if email and folded == email.casefold():
        raise BadInput("A password must not be the email address.")
    _check_strength(password, _context(username, email))
    return password


def _context(username: str, email: str) -> list[str]:
    """What an attacker who knows the account tries first: its names, the parts of its address, the site's name."""
    local, _, domain = email.casefold().partition("@")
    words = [username, email, local, *re.split(r"[._+-]", local), *domain.split("."), "dailypapers", "daily papers"]
    return [w for w in dict.fromkeys(words) if len(w) >= 3]


def _check_strength(password: str, context: list[str]) -> None:
    with _zxcvbn_lock:
        result = zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=context)
    if result["score"] >= MIN_SCORE:
        return
    feedback = result.get("feedback") or {}
    warning = (feedback.get("warning") or "").strip()
    if not warning and any(m.get("dictionary_name") == "user_inputs" for m in result.get("sequence") or ()):
        warning = "It is made from the username or the email address."
    sentences = [w.rstrip(".") + "." for w in (warning, *(feedback.get("suggestions") or ())) if w.strip()]
    reason = ": " + sentences[0] if warning else "."
    tips = " ".join(sentences[1:] if warning else sentences)
    raise BadInput(f"That password is too easy to guess{reason} {tips}".strip())


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string format) to store for ``password``."""
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored_hash``, and a new hash to store when the old one's parameters are
    outdated. ``stored_hash=None`` (no such user) takes as long as a real check and never matches."""
    if len(password) > MAX_LENGTH:
        return False, None
    try:
        _hasher.verify(stored_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored_hash) else None)
