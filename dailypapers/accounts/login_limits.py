"""Limits on password guessing that do not lock the owner out (issue 21 #13).

A limit per account alone lets anyone lock an account (and its admin) out with ten wrong passwords a minute; a
limit per client address alone lets a botnet guess forever. So wrong passwords count in two places, in the shared
``rate_limits`` table (:class:`dailypapers.db.ratelimits.DatabaseStorage`, the ``limits`` library's fixed windows):

* per **(account, client)** (``pair``, default ``5/minute;20/hour``): one client's guesses at one account. The
  client is the browser's *known-device* token when it has one for this account, else its IP address.
* per **account, from clients it has not seen** (``stranger``, default ``10/minute;50/hour;200/day``): every
  guess without a known-device token for this account, whoever sends it. Past it, such clients are refused (a 429
  with ``Retry-After``: guesses slow down to the limit's pace) — the owner is not: the browser they logged in
  from carries a known-device token (set at a successful log-in, OWASP's "device cookie" scheme), and a request
  with it counts only against its own pair.

Only wrong passwords count (a right one from a client under its limits always passes), and the account is the
user's id whatever the person typed, so the username and the email of one account share one limit. A login that
names no account counts under the name typed, with the same limits and the same answer.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.strategies import FixedWindowRateLimiter

from dailypapers.db.engine import Database
from dailypapers.db.ratelimits import DatabaseStorage
from dailypapers.errors import RateLimited

PAIR = "5/minute;20/hour"
STRANGER = "10/minute;50/hour;200/day"


def _items(text: str) -> list[RateLimitItem]:
    return parse_many(text) if text and text != "0" else []


class LoginLimits:
    """Counts wrong passwords per (account, client) and per account from unknown clients; refuses past either."""

    def __init__(self, db: Database, *, pair: str = PAIR, stranger: str = STRANGER) -> None:
        self.storage = DatabaseStorage(db)
        self.strategy = FixedWindowRateLimiter(self.storage)
        self.pair = _items(pair)
        self.stranger = _items(stranger)

    def _keys(self, account: str, client: str, known: bool) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        keys: list[tuple[RateLimitItem, tuple[str, ...]]] = [
            (item, ("login-pair", account, client)) for item in self.pair
        ]
        if not known:
            keys += [(item, ("login-stranger", account)) for item in self.stranger]
        return keys

    def check(self, account: str, client: str, *, known: bool) -> None:
        """:class:`RateLimited` if this client may not guess at ``account`` now (nothing is counted)."""
        for item, ident in self._keys(account, client, known):
            if not self.strategy.test(item, *ident):
                wait = math.ceil(self.storage.get_expiry(item.key_for(*ident)) - time.time())
                raise RateLimited(
                    f"Too many wrong passwords for this account from here; try again in {max(1, wait)} s"
                    " (or log in from a browser you logged in with before, or reset the password).",
                    max(1, wait),
                )

    def failed(self, account: str, client: str, *, known: bool) -> None:
        """Count one wrong password."""
        for item, ident in self._keys(account, client, known):
            self.strategy.hit(item, *ident)
