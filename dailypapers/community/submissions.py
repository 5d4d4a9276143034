"""Paper submissions and code/project links: a signed-in user brings an arXiv paper to today's list by its id, and
the submitter (or an approved author, or an admin) may set the paper's GitHub repository and project page.

A submission (:meth:`Submissions.submit`) reads what the user typed (:func:`parse_submission`: a new-style
``YYMM.NNNNN`` or old-style ``archive/YYMMNNN`` id, with an optional version, as ``arXiv:<id>`` or an arxiv.org
abs/PDF link). A paper already stored is returned as a duplicate, without asking arXiv. Otherwise its metadata is
fetched from the arXiv API through the instance-wide :class:`~dailypapers.community.arxiv_gate.ArxivGate` (one
request at a time, ``arxiv_delay`` apart), checked against the submission window (``submission_window_days``
after its first version; 0: any age), imported *and indexed* with ``added_at`` = today in the configured time zone,
and recorded in ``submissions`` with its submitter.

Nothing is stored half. The paper store and the plain tables use different connections, so the two writes cannot
share a transaction; instead the submission row is written only after the import and indexing succeeded, and a
paper this submission added is deleted again if either step fails. Everything from the check for a duplicate to
the submission row happens while holding the gate, so two submissions of the same paper cannot race.

The HTML form submits through :attr:`Submissions.pending` (:mod:`.pending_submissions`), which runs the same
:meth:`Submissions.submit` in a thread and answers "being checked" when arXiv is slow.

Links: ``paper_links`` holds per-field overrides (NULL: none). The effective link is the override, else the one
found in the abstract; saving an empty field removes the override.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, column, delete, exists, func, or_, select, table
from sqlalchemy.exc import IntegrityError

from dailypapers.db.engine import Database, key_chunks
from dailypapers.db.meta import Meta
from dailypapers.db.schema import claims, paper_links, papers, submissions, users
from dailypapers.errors import BadInput, Conflict, Forbidden, UserError
from dailypapers.papers.hidden import not_hidden
from dailypapers.papers.models import Paper, parse_arxiv_id
from dailypapers.papers.service import Papers
from dailypapers.papers.sources.arxiv_api import ArxivQueryError, arxiv_id_lookup
from dailypapers.papers.sources.base import IngestReport, Record, SourceError

from .arxiv_gate import ArxivGate
from .pending_submissions import PendingSubmissions

log = logging.getLogger(__name__)

MAX_INPUT = 300
MAX_URL = 500
SUBMIT_RETRIES = 2  # a person is waiting: at most two retries (about 3 + 6 s at arXiv's delay), not the import's 5
MAX_WAIT = 20.0  # the longest single wait a submission accepts (arXiv's Retry-After can say minutes)
_FORMS = (
    "Use an arXiv id such as 2106.09685 (optionally with a version, 2106.09685v2) or an old-style id such as"
    " hep-th/9901001, written alone, as arXiv:2106.09685, or as an arxiv.org abs or PDF link."
)
_LINK_NAMES = {"code_url": "GitHub repository", "project_url": "project page"}

# The day a paper was added, which the plain schema does not list (the stores own ``papers``); typed, so that each
# backend gets its own form of a date (ISO text on SQLite).
_added = table("papers", column("pk"), column("added_at", Date))

Ingest = Callable[[Sequence[Record], date], IngestReport]
"""Import *and index* records with the given ``added_at`` (the library's ``ingest``)."""


class ArxivUnavailable(UserError):
    """arXiv could not be reached or answered with an error, after the retries (502: an upstream failure)."""

    status = 502


@dataclass(frozen=True)
class SubmitResult:
    paper: Paper
    duplicate: bool  # True: the paper was already here (nothing was fetched or recorded)


class Links(NamedTuple):
    code_url: str | None
    project_url: str | None


def effective_links(paper: Paper, set_here: Links | None) -> Links:
    """The links to show for ``paper``: those set here (``set_here``), field by field, else the abstract's."""
    code, project = set_here or (None, None)
    return Links(code or paper.code_url, project or paper.project_url)


def parse_submission(text: str) -> tuple[str, int | None]:
    """``(id, version)`` of what a user typed to submit a paper; :class:`BadInput` naming the accepted forms."""
    raw = (text or "").strip()
    if not raw:
        raise BadInput("Enter the paper's arXiv id or link. " + _FORMS)
    if len(raw) > MAX_INPUT:
        raise BadInput(f"That is too long for an arXiv id or link (at most {MAX_INPUT} characters). " + _FORMS)
    candidate = raw
    if "://" in raw:  # a link copied from the address bar may carry a query, a fragment or a trailing slash
        try:
            parts = urlsplit(raw)
        except ValueError:
            raise BadInput(f"'{raw[:100]}' is not a valid link. " + _FORMS) from None
        host = (parts.hostname or "").lower()
        if host not in ("arxiv.org", "www.arxiv.org", "export.arxiv.org"):
            raise BadInput(f"Only arxiv.org links can be submitted, not links to '{host[:100]}'. " + _FORMS)
        candidate = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    parsed = parse_arxiv_id(candidate)
    if parsed is None:
        raise BadInput(f"'{raw[:100]}' is not an arXiv id. " + _FORMS)
    return parsed


def check_link(value: str | None, field: str) -> str | None:
    """``value`` stripped if it is an http(s) link of at most :data:`MAX_URL` characters; None when empty."""
    name = _LINK_NAMES.get(field, field)
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_URL:
        raise BadInput(f"The {name} link is too long (at most {MAX_URL} characters).")
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    bad_chars = any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text)
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or bad_chars:
        raise BadInput(f"The {name} must be an http:// or https:// link, such as https://example.org/project.")
    return text


class Submissions:
    """Submissions and links on the configured database (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        papers_service: Papers,
        meta: Meta,
        ingest: Ingest,
        *,
        arxiv: Mapping[str, Any],
        window_days: int,
        time_zone: str,
        busy_wait: float = 10.0,
    ) -> None:
        self.db, self.papers, self.ingest = db, papers_service, ingest
        self.arxiv = {**arxiv, "retries": min(int(arxiv.get("retries", SUBMIT_RETRIES)), SUBMIT_RETRIES)}
        self.window_days, self.zone = window_days, ZoneInfo(time_zone)
        self.gate = ArxivGate(meta, papers_service.job_lock, float(arxiv.get("delay", 3.0)), busy_wait=busy_wait)

    def today(self) -> date:
        """Today in the instance's time zone: the day the daily list is filling."""
        return datetime.now(self.zone).date()

    # -- submitting -----------------------------------------------------------------------------------------------
    @cached_property
    def pending(self) -> PendingSubmissions:
        """Submissions that answer at once, "being checked" while arXiv is slow (the HTML form's way)."""
        return PendingSubmissions(self.db, self.submit)

    def submit(self, text: str, user_id: str) -> SubmitResult:
        """Bring the paper ``text`` names to today's list as submitted by ``user_id`` (see the module docstring).

        :class:`BadInput`: not an arXiv id or link, unknown to arXiv, or older than the window; :class:`Conflict`:
        a paper a moderator hid;
        :class:`ArxivUnavailable`: arXiv unreachable or failing; :class:`RateLimited`: arXiv busy with another
        request of this instance. In every error case nothing is stored."""
        arxiv_id, version = parse_submission(text)
        if (existing := self._existing(arxiv_id)) is not None:
            return existing
        with self.gate.held():
            if (existing := self._existing(arxiv_id)) is not None:  # submitted by another while this one waited
                return existing
            paper = self._fetch(arxiv_id, version)
            same = self.papers.store.find_by_title(paper.title, include_hidden=True)  # a hidden one is a duplicate too
            if same is not None and not same.is_arxiv:  # imported without an arXiv id: the import would merge them
                return SubmitResult(same, duplicate=True)
            self._check_window(paper)
            return self._store(paper, user_id)

    def _existing(self, arxiv_id: str) -> SubmitResult | None:
        paper = self.papers.get(arxiv_id, include_hidden=True)
        if paper is not None and self.papers.is_hidden(paper):
            raise Conflict("This paper was taken off the lists by a moderator; it cannot be submitted again.")
        return SubmitResult(paper, duplicate=True) if paper is not None else None

    def _fetch(self, arxiv_id: str, version: int | None) -> Paper:
        wanted = arxiv_id if version is None else f"{arxiv_id}v{version}"
        try:
            with self.gate.spaced():
                records = list(arxiv_id_lookup([wanted], **self.arxiv, sleep=self._sleep))
        except ArxivQueryError as exc:
            raise BadInput(f"arXiv does not know the paper {wanted} ({exc}).") from None
        except SourceError as exc:
            log.warning("submission of %s: arXiv lookup failed: %s", wanted, exc)
            raise ArxivUnavailable(
                f"arXiv could not be reached, or failed to answer, so {wanted} was not submitted; nothing was"
                " stored. Please try again in a few minutes."
            ) from None
        found = [r for r in records if isinstance(r, Paper) and r.id == arxiv_id]
        if not found:
            raise BadInput(f"arXiv has no paper {wanted}; check the id.")
        return found[0]

    def _sleep(self, seconds: float) -> None:
        """The arXiv client's waits; a back-off longer than :data:`MAX_WAIT` gives up instead of hanging the page."""
        if seconds > MAX_WAIT:
            raise ArxivUnavailable(
                f"arXiv asks us to wait {seconds:.0f} s before the next request; please try again in a few minutes."
            )
        self.gate.sleep(seconds)

    def _check_window(self, paper: Paper) -> None:
        if not self.window_days or paper.published is None:
            return
        first = paper.published.astimezone(self.zone).date()
        if self.today() - first > timedelta(days=self.window_days):
            raise BadInput(
                f"{paper.id} was first published on {first.isoformat()}, more than {self.window_days} days ago;"
                f" papers can be submitted within {self.window_days} days of their first arXiv version."
            )

    def _store(self, paper: Paper, user_id: str) -> SubmitResult:
        day = self.today()
        paper.added_at = day
        try:
            report = self.ingest([paper], day)
        except Exception:
            self._discard(paper.id)  # stored but not indexed: take it back
            raise
        stored = self.papers.get(paper.id)
        assert stored is not None and stored.pk is not None, "ingested paper not found"
        if report.added == 0:  # a scheduled import stored it in the meantime: it was here already
            return SubmitResult(stored, duplicate=True)
        try:
            with self.db.write() as conn:
                conn.execute(
                    submissions.insert().values(paper_pk=stored.pk, user_id=user_id, created_at=datetime.now(UTC))
                )
        except IntegrityError:  # the account was deleted while its submission ran
            self._discard(paper.id)
            raise Conflict("This account no longer exists, so the submission was not recorded.") from None
        except Exception:
            self._discard(paper.id)
            raise
        return SubmitResult(stored, duplicate=False)

    def _discard(self, paper_id: str) -> None:
        """Delete a paper this submission added (its authors' links, embeddings and text index go with it)."""
        try:
            with self.db.write() as conn:
                conn.execute(delete(papers).where(papers.c.id == paper_id))
        except Exception:  # the original failure is what the caller must see; this one only goes to the log
            log.exception("could not remove the half-submitted paper %s", paper_id)

    # -- who submitted what ---------------------------------------------------------------------------------------
    def submitted_by(self, paper_pks: Sequence[int]) -> dict[int, str]:
        """``{paper key: submitter's username}`` for the papers among ``paper_pks`` that were submitted (by a user
        who still exists); one query per 500 keys."""
        found: dict[int, str] = {}
        with self.db.read() as conn:
            for chunk in key_chunks(paper_pks):
                query = (
                    select(submissions.c.paper_pk, users.c.username)
                    .join(users, users.c.id == submissions.c.user_id)
                    .where(submissions.c.paper_pk.in_(chunk))
                )
                found.update({int(pk): str(name) for pk, name in conn.execute(query)})
        return found

    def submitted_between(self, start: date, end: date) -> dict[int, str]:
        """``{paper key: submitter's username}`` of the listed (not hidden) papers added from ``start`` to ``end``
        that a user (who still exists) submitted: few next to a list's imported papers (submissions are
        rate-limited), so a list can tell its submitted papers apart in one query."""
        query = (
            select(submissions.c.paper_pk, users.c.username)
            .join(users, users.c.id == submissions.c.user_id)
            .join(_added, _added.c.pk == submissions.c.paper_pk)
            .where(_added.c.added_at.between(start, end), not_hidden(submissions.c.paper_pk))
        )
        with self.db.read() as conn:
            return {int(pk): str(name) for pk, name in conn.execute(query)}

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(submissions)).scalar_one())

    # -- links ----------------------------------------------------------------------------------------------------
    def links(self, paper: Paper) -> Links:
        """The paper's effective code and project links: the overrides set here, else the abstract's."""
        return effective_links(paper, self.link_overrides([paper.pk]).get(paper.pk) if paper.pk else None)

    def link_overrides(self, paper_pks: Sequence[int]) -> dict[int, Links]:
        """``{paper key: the links set here}`` for the papers among ``paper_pks`` that have any (a list's, in one
        query per 500 keys); a field left empty there is None (the abstract's link stays)."""
        found: dict[int, Links] = {}
        t = paper_links
        with self.db.read() as conn:
            for chunk in key_chunks(paper_pks):
                query = select(t.c.paper_pk, t.c.code_url, t.c.project_url).where(t.c.paper_pk.in_(chunk))
                found.update({int(pk): Links(code, project) for pk, code, project in conn.execute(query)})
        return found

    def may_edit_links(self, paper: Paper, user_id: str, *, is_admin: bool) -> bool:
        """Whether the user may set the paper's links: an admin, its submitter, or an author whose claim on it
        was approved."""
        if is_admin:
            return True
        submitter = select(submissions.c.paper_pk).where(
            submissions.c.paper_pk == paper.pk, submissions.c.user_id == user_id
        )
        approved = select(claims.c.id).where(
            and_(claims.c.paper_pk == paper.pk, claims.c.user_id == user_id, claims.c.status == "approved")
        )
        with self.db.read() as conn:
            return bool(conn.execute(select(or_(exists(submitter), exists(approved)))).scalar_one())

    def set_links(
        self, paper: Paper, user_id: str, code_url: str | None, project_url: str | None, *, is_admin: bool
    ) -> Links:
        """Set (or, with an empty value, clear) the paper's code and project overrides; returns the effective
        links. :class:`Forbidden` unless :meth:`may_edit_links`; :class:`BadInput` for a link that is not
        http(s) or longer than :data:`MAX_URL`."""
        if not self.may_edit_links(paper, user_id, is_admin=is_admin):
            raise Forbidden(
                "Only the paper's submitter, an author whose claim was approved, or an admin can change its links."
            )
        code, project = check_link(code_url, "code_url"), check_link(project_url, "project_url")
        with self.db.write() as conn:
            if code is None and project is None:
                conn.execute(delete(paper_links).where(paper_links.c.paper_pk == paper.pk))
            else:
                values = {"code_url": code, "project_url": project, "set_by": user_id, "set_at": datetime.now(UTC)}
                stmt = self.db.insert(paper_links).values(paper_pk=paper.pk, **values)
                conn.execute(stmt.on_conflict_do_update(index_elements=[paper_links.c.paper_pk], set_=values))
        return self.links(paper)
