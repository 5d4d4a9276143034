"""Submissions that answer at once: the arXiv lookup runs in a thread, and the person who submitted gets an answer
within ``answer_within`` seconds either way — the result, or "arXiv is being checked" with a ticket to look again.

arXiv can take a minute to answer (or never, until the HTTP timeout and its retries have passed: ~19 s and more
were seen). A form that hangs that long gives no feedback; instead :meth:`PendingSubmissions.start` waits a little
for the lookup and returns its :class:`Outcome`, ``checking`` while it goes on. The web layer sends a ``checking``
submitter to a page that reloads itself (no JavaScript) and reads the outcome again with :meth:`get`.

Outcomes are kept in the database's ``meta`` table (key ``submission-ticket:<ticket>``, a JSON object), so the
page may be served by any worker or machine of the instance, not only the one whose thread does the lookup. A
ticket is a random token, readable only by the user who started it. An outcome still ``checking`` after
:data:`STALE_AFTER` seconds (its worker died) reads as failed, and tickets older than a day are removed when the
next submission starts.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, select

from dailypapers.db.engine import Database
from dailypapers.db.schema import meta
from dailypapers.errors import UserError

log = logging.getLogger(__name__)

KEY_PREFIX = "submission-ticket:"
ANSWER_WITHIN = 2.0  # seconds a form waits for arXiv before it says "being checked" (arXiv usually answers in ~1 s)
STALE_AFTER = 600.0  # longer than any lookup can last (HTTP timeout × attempts + back-off): its worker is gone
KEEP_FOR = 86400.0  # a day: then a ticket is removed

State = Literal["checking", "done", "failed"]


@dataclass
class Outcome:
    """Where one submission stands. ``typed`` is what the user typed (shown again in the form)."""

    ticket: str
    user_id: str
    typed: str
    started: float  # wall-clock seconds, comparable across machines
    state: State = "checking"
    paper_id: str | None = None
    duplicate: bool = False
    error: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def arxiv_id(self) -> str:
        """What was typed, shortened for a sentence."""
        return self.typed.strip()[:100]


class PendingSubmissions:
    """Submissions run in threads, their outcomes kept in ``meta`` (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        submit: Callable[[str, str], Any],
        *,
        answer_within: float = ANSWER_WITHIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self._submit, self.answer_within, self.clock = db, submit, answer_within, clock
        self._finished: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, text: str, user_id: str) -> Outcome:
        """Submit ``text`` for ``user_id`` in a thread; the outcome once known, or ``checking`` after
        :attr:`answer_within` seconds."""
        self._purge()
        outcome = Outcome(secrets.token_urlsafe(16), user_id, text[:300], self.clock())
        self._save(outcome)
        done = threading.Event()
        with self._lock:
            self._finished[outcome.ticket] = done
        worker = threading.Thread(target=self._run, args=(outcome, text), name="submission", daemon=True)
        worker.start()
        done.wait(self.answer_within)
        return self.get(outcome.ticket, user_id) or outcome

    def get(self, ticket: str, user_id: str) -> Outcome | None:
        """The outcome of ``ticket`` if ``user_id`` started it; None for an unknown ticket or another user's."""
        with self.db.read() as conn:
            raw = conn.execute(select(meta.c.value).where(meta.c.key == KEY_PREFIX + ticket)).scalar_one_or_none()
        if raw is None:
            return None
        try:
            outcome = Outcome(**json.loads(raw))
        except (ValueError, TypeError):
            return None
        if not secrets.compare_digest(outcome.user_id, user_id):
            return None
        if outcome.state == "checking" and self.clock() - outcome.started > STALE_AFTER:
            outcome.state, outcome.status = "failed", 502
            outcome.error = "The check with arXiv did not finish; nothing was stored. Please submit the paper again."
        return outcome

    def _run(self, outcome: Outcome, text: str) -> None:
        try:
            result = self._submit(text, outcome.user_id)
            outcome.state, outcome.paper_id, outcome.duplicate = "done", result.paper.id, result.duplicate
        except UserError as exc:
            outcome.state, outcome.error, outcome.status = "failed", exc.message, exc.status
            outcome.headers = {k: str(v) for k, v in exc.headers.items()}
        except Exception:  # the thread has nobody to raise to: the submitter is told, the log gets the details
            log.exception("submission of %r failed", outcome.arxiv_id)
            outcome.state, outcome.status = "failed", 500
            outcome.error = "Something went wrong while submitting the paper; nothing was stored. Please try again."
        finally:
            try:
                self._save(outcome)
            finally:
                with self._lock:
                    done = self._finished.pop(outcome.ticket, None)
                if done is not None:
                    done.set()

    def _save(self, outcome: Outcome) -> None:
        value = json.dumps(asdict(outcome))
        with self.db.write() as conn:
            stmt = self.db.insert(meta).values(key=KEY_PREFIX + outcome.ticket, value=value)
            conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value}))

    def _purge(self) -> None:
        """Remove tickets older than :data:`KEEP_FOR` (few: submissions are rate limited)."""
        old: list[str] = []
        with self.db.read() as conn:
            rows = conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.startswith(KEY_PREFIX)))
            for key, value in rows:
                try:
                    started = float(json.loads(value)["started"])
                except (ValueError, TypeError, KeyError):
                    started = 0.0
                if self.clock() - started > KEEP_FOR:
                    old.append(key)
        if old:
            with self.db.write() as conn:
                conn.execute(delete(meta).where(meta.c.key.in_(old)))
