"""The polite HTTP client that arXiv's two query services share: the API (:mod:`.arxiv_api`) and OAI-PMH (:mod:`.oai`).

arXiv's terms of use ask a client for one request at a time and 3 s between requests, and both services answer
overload with HTTP 503 and ``Retry-After`` (OAI-PMH 2.0 section 3.5.1 calls it flow control). :class:`PoliteClient`
keeps those rules in one place; a subclass keeps only what differs (what a good answer is, how it is parsed):

* requests are sequential over one ``httpx.Client`` (one connection), each starting at least ``delay`` seconds after
  the previous one started; waiting goes through the injected ``sleep`` and ``clock``, so tests can record it or use
  a tiny delay;
* an attempt that ends in :class:`Retry` (a network error, HTTP 429/5xx, or what the subclass adds, such as the API's
  ``Rate exceeded.`` body) is made again, at most ``retries`` times, ``Retry-After`` seconds later when the server
  sent it (seconds or an HTTP-date, capped at :data:`MAX_WAIT`), else ``delay * 2**n`` later; then
  :class:`~dailypapers.papers.sources.base.SourceError` names the place, the problem and the server;
* a body over :attr:`PoliteClient.max_bytes` is refused while it streams in (not retried: it would come again).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Self, TypedDict, TypeVar

import httpx

from dailypapers.papers.models import utc
from dailypapers.papers.sources.base import SourceError, too_large

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 300.0  # longest single back-off, whatever Retry-After says
T = TypeVar("T")


def retry_after(value: str | None, cap: float = MAX_WAIT) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP-date, RFC 9110 section 10.2.3),
    capped at ``cap``; None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = utc(parsedate_to_datetime(value))
        except (TypeError, ValueError, IndexError):
            return None
        assert when is not None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), cap) if math.isfinite(seconds) else None


@dataclass(frozen=True)
class Retry:
    """An attempt to make again: what went wrong, and the seconds the server asked to wait (None: back off)."""

    problem: str
    pause: float | None = None


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of :class:`PoliteClient`, for the functions that open one
    (``read_arxiv("cat:cs.LG", max_results=10, delay=0.5)``)."""

    base_url: str
    delay: float
    retries: int
    timeout: float
    client: httpx.Client | None
    sleep: Callable[[float], object]
    clock: Callable[[], float]


class PoliteClient:
    """One polite connection to one of arXiv's services: sequential requests, ``delay`` seconds apart, with retries."""

    default_url: ClassVar[str] = ""
    user_agent: ClassVar[str] = "dailypapers (self-hosted paper digest)"
    max_bytes: ClassVar[int | None] = None
    """The largest body read (None: no limit); a larger one raises :class:`SourceError` while it streams in."""
    log: ClassVar[logging.Logger] = logging.getLogger(__name__)
    """Where retries are logged: each subclass names its own module's logger."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        delay: float = 3.0,
        retries: int = 5,
        timeout: float = 60.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = self.default_url if base_url is None else base_url
        self.delay, self.retries, self.timeout = max(delay, 0.0), max(retries, 0), timeout
        self.sleep, self.clock = sleep, clock
        self._own = client is None
        self._client = client or httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": self.user_agent},
            limits=httpx.Limits(max_connections=1),  # one request at a time, over one connection
        )
        self._not_before: float | None = None  # clock time before which the next request may not start
        self.requests = 0

    def close(self) -> None:
        """Close the connection, unless it was passed in (then it is its owner's)."""
        if self._own:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, params: Mapping[str, Any], where: str) -> tuple[httpx.Response, bytes] | Retry:
        """One request, spaced after the previous one: the response and its body, or :class:`Retry` for a network
        error or a retryable status (``where`` names the request in messages)."""
        if self._not_before is not None and (wait := self._not_before - self.clock()) > 0:
            self.sleep(wait)
        self._not_before = self.clock() + self.delay
        self.requests += 1
        try:
            with self._client.stream("GET", self.base_url, params=dict(params), timeout=self.timeout) as resp:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if self.max_bytes is not None and size > self.max_bytes:
                        raise too_large(where, self.max_bytes)
                    chunks.append(chunk)
        except httpx.TransportError as exc:
            return Retry(f"{type(exc).__name__}: {exc}")
        if resp.status_code in RETRY_STATUS:
            return Retry(f"HTTP {resp.status_code}", retry_after(resp.headers.get("Retry-After")))
        return resp, b"".join(chunks)

    def retrying(self, where: str, attempt: Callable[[bool], T | Retry]) -> T:
        """What ``attempt(last)`` returns, calling it again after each :class:`Retry` as the module docstring says
        (``last`` is True for the final try); :class:`SourceError` when the retries are spent."""
        problem = ""
        for n in range(self.retries + 1):
            outcome = attempt(n == self.retries)
            if not isinstance(outcome, Retry):
                return outcome
            problem = outcome.problem
            if n < self.retries:
                pause = min(self.delay * 2 ** (n + 1), MAX_WAIT) if outcome.pause is None else outcome.pause
                self.log.warning("%s: %s; retry %d/%d in %.1f s", where, problem, n + 1, self.retries, pause)
                self._not_before = max(self._not_before or 0.0, self.clock() + pause)
        raise SourceError(f"{where}: {problem} (gave up after {self.retries} retries; {self.base_url})")
