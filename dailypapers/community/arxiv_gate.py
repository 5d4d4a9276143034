"""One arXiv API request at a time for the whole instance, spaced by ``arxiv_delay`` seconds: the gate that
interactive lookups (paper submissions) pass through.

arXiv asks every client for one request at a time and at least 3 s between requests. An instance may run several
threads in several workers on several machines, so the rule is kept at three levels:

* threads of one worker queue on a ``threading.Lock`` (waiting at most ``busy_wait`` seconds);
* workers and machines take the job lock ``arxiv-api`` (:meth:`dailypapers.papers.service.Papers.job_lock`: a
  file lock next to a SQLite database, an advisory lock on PostgreSQL). It never blocks, so a taken lock is asked
  for again every ``poll`` seconds until ``busy_wait`` has passed; then the caller gets :class:`RateLimited`
  ("arXiv is busy") with a ``Retry-After``, rather than a request that hangs;
* the time the last request ended is kept in the database (``meta`` key :data:`LAST_REQUEST_KEY`, wall-clock
  seconds, which every machine can compare), and the holder of the lock waits until ``delay`` has passed since it.

Recording the *end* of a lookup (after its retries) is conservative: the next one starts at least ``delay`` after
the previous one's last request started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from dailypapers.db.meta import Meta
from dailypapers.errors import RateLimited

LOCK_NAME = "arxiv-api"
LAST_REQUEST_KEY = "arxiv_api:last_request"
BUSY_RETRY_AFTER = 5  # seconds a caller turned away is told to wait


class ArxivGate:
    """The instance-wide turn to call the arXiv API (see the module docstring)."""

    def __init__(
        self,
        meta: Meta,
        job_lock: Callable[[str], AbstractContextManager[bool]],
        delay: float,
        *,
        busy_wait: float = 10.0,
        poll: float = 0.2,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.meta, self.job_lock, self.delay = meta, job_lock, max(delay, 0.0)
        self.busy_wait, self.poll, self.sleep, self.clock = busy_wait, poll, sleep, clock
        self._threads = threading.Lock()

    @staticmethod
    def busy() -> RateLimited:
        return RateLimited("arXiv is busy with another request; try again in a few seconds.", BUSY_RETRY_AFTER)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the turn (this worker's lock, then the instance's) for the block; :class:`RateLimited` when it
        cannot be had within ``busy_wait`` seconds."""
        deadline = time.monotonic() + self.busy_wait
        if not self._threads.acquire(timeout=max(self.busy_wait, 0.0)):
            raise self.busy()
        try:
            while True:
                with self.job_lock(LOCK_NAME) as acquired:
                    if acquired:
                        yield
                        return
                if time.monotonic() + self.poll > deadline:
                    raise self.busy()
                self.sleep(self.poll)
        finally:
            self._threads.release()

    @contextmanager
    def spaced(self) -> Iterator[None]:
        """Inside :meth:`held`: wait until ``delay`` has passed since the instance's last request, run the block
        (the requests), and record when it ended, also when it failed."""
        last = self.meta.get(LAST_REQUEST_KEY)
        try:
            wait = float(last) + self.delay - self.clock() if last else 0.0
        except ValueError:  # an unreadable value: wait the full delay rather than none
            wait = self.delay
        if wait > 0:
            self.sleep(min(wait, self.delay))  # a clock that jumped back must not make us wait for ever
        try:
            yield
        finally:
            self.meta.set(LAST_REQUEST_KEY, repr(self.clock()))
