"""Rate limits in the web layer: the named limits the app checks (:class:`RateLimits`, ``app.state.rate_limits``),
the client address they count per (:func:`client_address`), and a limit reached as HTTP 429 with ``Retry-After``
(:class:`~dailypapers.errors.RateLimited`, which the app's error handler renders).

The counting is the ``limits`` library's fixed-window strategy over :class:`dailypapers.db.ratelimits.DatabaseStorage`,
the ``rate_limits`` table every worker and machine shares.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter
from starlette.requests import Request

from dailypapers.db.engine import Database
from dailypapers.db.ratelimits import DatabaseStorage
from dailypapers.errors import RateLimited

__all__ = ["DatabaseStorage", "RateLimits", "client_address"]  # DatabaseStorage: re-exported, it was defined here


class RateLimits:
    """Named limits (``"login": "10/minute"``) checked against the shared storage."""

    def __init__(self, db: Database, limits: dict[str, str]) -> None:
        self.storage = DatabaseStorage(db)
        self.strategy = FixedWindowRateLimiter(self.storage)
        self.items: dict[str, RateLimitItem | None] = {
            name: parse(text) if text and text != "0" else None for name, text in limits.items()
        }

    def hit(self, name: str, *identity: str, what: str = "requests") -> None:
        """Count one ``name`` event for ``identity``; :class:`RateLimited` (429 + Retry-After) past the limit."""
        item = self.items.get(name)
        if item is None:  # no such limit, or turned off
            return
        if not self.strategy.hit(item, name, *identity):
            wait = math.ceil(self.storage.get_expiry(item.key_for(name, *identity)) - time.time())
            raise RateLimited(f"Too many {what}; try again in {max(1, wait)} s.", max(1, wait))


def client_address(request: Request) -> str:
    """The client's address, for per-address rate limits (behind a proxy: uvicorn ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"
