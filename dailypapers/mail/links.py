"""The signed links of a subscription's emails — confirm, unsubscribe (a page, and RFC 8058's one-click POST),
manage — and the site's absolute base URL that an email needs (a mail client has no page to be relative to).

A token is ``itsdangerous.URLSafeTimedSerializer`` over ``[subscription id, nonce]`` under the instance's secret
key, HMAC-SHA256, with one salt per purpose: a confirm token is worthless as an unsubscribe token and the other
way round. The nonce is the subscription's current one: when a link is used the nonce changes
(:mod:`dailypapers.mail.subscriptions`), so every link signed before is spent. Tokens carry the time they were
signed; only confirmation links expire (``confirm_hours``), unsubscribe and manage links stay valid as long as
their nonce is the current one (an unsubscribe link in a months-old digest must still work, RFC 8058 §3).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from dailypapers.config import Config
from dailypapers.errors import BadInput

Purpose = Literal["confirm", "unsubscribe", "manage"]
PURPOSES: tuple[Purpose, ...] = ("confirm", "unsubscribe", "manage")
MAX_TOKEN = 500  # ours are about 100 characters; anything much longer was not made here
PATHS: dict[str, str] = {
    "confirm": "/subscribe/confirm",
    "unsubscribe": "/unsubscribe",
    "one_click": "/unsubscribe/one-click",
    "manage": "/subscription/manage",
}


class Signed(Protocol):
    """What a link is signed over: the subscription's id and current nonce."""

    @property
    def id(self) -> str: ...

    @property
    def nonce(self) -> str: ...


class BadLink(BadInput):
    """A token that is forged, malformed, expired or made for another purpose (400; nothing changes)."""


@dataclass(frozen=True)
class Token:
    """A verified token: whose it is, over which nonce, and when it was signed."""

    subscription_id: str
    nonce: str
    signed_at: datetime


class _StampedSigner(TimestampSigner):
    """A timestamp signer whose clock can be set (``at``): tests and callers that drive ``now`` sign with it."""

    def __init__(self, *args: Any, at: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.at = at

    def get_timestamp(self) -> int:
        return self.at if self.at is not None else super().get_timestamp()


def site_url(config: Config) -> str:
    """The site's absolute base URL, without a trailing slash: ``public_url``, else ``http://{host}:{port}``."""
    if config.public_url:
        return config.public_url.rstrip("/")
    host = f"[{config.host}]" if ":" in config.host else config.host  # an IPv6 literal is bracketed (RFC 3986)
    return f"http://{host}:{config.port}"


class Links:
    """Signs and reads the tokens of subscription links, and builds their absolute URLs."""

    def __init__(self, secret_key: str, site_url: str) -> None:
        self.secret_key = secret_key
        self.site_url = site_url.rstrip("/")

    def _serializer(self, purpose: str, at: datetime | None = None) -> URLSafeTimedSerializer:
        stamp = int(at.timestamp()) if at is not None else None
        return URLSafeTimedSerializer(
            self.secret_key,
            salt=f"dailypapers.subscription.{purpose}",
            signer=_StampedSigner,
            signer_kwargs={"digest_method": hashlib.sha256, "at": stamp},
        )

    def token(self, purpose: Purpose, sub: Signed, *, at: datetime | None = None) -> str:
        """A token for ``purpose`` over ``sub``'s id and nonce, signed at ``at`` (default: now)."""
        value: str = self._serializer(purpose, at).dumps([sub.id, sub.nonce])
        return value

    def read(self, purpose: Purpose, token: object, *, max_age_s: int | None = None,
             now: datetime | None = None) -> Token:  # fmt: skip
        """The verified content of ``token``; :class:`BadLink` (with a sentence) when it is forged, malformed, made
        for another purpose, or — given ``max_age_s`` — older than that at ``now``."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            raise BadLink("This link is incomplete or damaged; copy the whole link from the email.")
        try:
            value, signed = self._serializer(purpose).loads(token, return_timestamp=True)
        except (BadSignature, UnicodeError, ValueError):
            raise BadLink("This link is not valid: it was not made by this site, or not for this page.") from None
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise BadLink("This link is not valid: it was not made by this site, or not for this page.")
        signed = signed if signed.tzinfo else signed.replace(tzinfo=UTC)
        if max_age_s is not None:
            age = ((now or datetime.now(UTC)) - signed).total_seconds()
            if age > max_age_s:
                raise BadLink(
                    f"This confirmation link has expired (links are valid for {max_age_s // 3600} hours);"
                    " subscribe again to get a new one."
                )
        return Token(value[0], value[1], signed)

    def _url(self, path: str, token: str) -> str:
        return f"{self.site_url}{path}?token={quote(token, safe='')}"

    def confirm_url(self, sub: Signed, *, at: datetime | None = None) -> str:
        """The confirmation page (GET shows a button, POST confirms); expires ``confirm_hours`` after ``at``."""
        return self._url(PATHS["confirm"], self.token("confirm", sub, at=at))

    def unsubscribe_url(self, sub: Signed) -> str:
        """The unsubscribe page: GET shows a button (mail scanners prefetch links), POST unsubscribes."""
        return self._url(PATHS["unsubscribe"], self.token("unsubscribe", sub))

    def one_click_url(self, sub: Signed) -> str:
        """The ``List-Unsubscribe`` URL: a POST with body ``List-Unsubscribe=One-Click`` unsubscribes (RFC 8058)."""
        return self._url(PATHS["one_click"], self.token("unsubscribe", sub))

    def manage_url(self, sub: Signed) -> str:
        """The preferences page of a subscriber without an account (valid while the nonce is current)."""
        return self._url(PATHS["manage"], self.token("manage", sub))
