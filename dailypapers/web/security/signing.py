"""Signatures under the instance's secret key, through itsdangerous (HMAC-SHA1 by default; we ask for SHA-256).

The key is ``DAILYPAPERS_SECRET_KEY``, else one generated once and kept in the database
(:attr:`dailypapers.library.Library.secret_key`), so every worker and machine signs alike. Each use has its own
salt (``"csrf"``, ``"voter"``), so a signature made for one purpose is worthless for another.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, Signer


def signer(secret: str, purpose: str) -> Signer:
    return Signer(secret, salt=f"dailypapers.{purpose}", digest_method=hashlib.sha256)


def sign(secret: str, purpose: str, value: str) -> str:
    """``value`` with its signature appended (``value.signature``)."""
    return signer(secret, purpose).sign(value).decode()


def unsign(secret: str, purpose: str, signed: str | None) -> str | None:
    """The value of a signed string, or None when it is missing, malformed or not signed by us for ``purpose``."""
    if not signed or len(signed) > 500:
        return None
    try:
        return signer(secret, purpose).unsign(signed).decode()
    except (BadSignature, UnicodeError):
        return None


def mac(secret: str, purpose: str, *parts: str) -> str:
    """A detached signature of ``parts`` (for tokens that need not carry their value)."""
    return signer(secret, purpose).get_signature("\0".join(parts).encode("utf-8", "surrogatepass")).decode()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of a value from the request with the expected one (any text, no exceptions)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
