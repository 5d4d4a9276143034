"""One digest, composed: the sections a subscriber chose, each a list of papers with the reason they are there.

:func:`compose` reads only what it is given — the catalogue (:class:`dailypapers.papers.service.Papers`) and, for
subscribers with an account, their recommendations and saved-search matches as two callables — so it runs the same
for ``dailypapers digest preview``, the ``digest.send`` job and the tests. Rendering is :mod:`dailypapers.mail.render`.

The rules, in one place:

* Only papers the digest's :class:`Window` covers appear, whatever section found them: papers *stored* after the
  subscriber's previous digest (a key range of ``papers.pk``, which grows in commit order: one writer at a time on
  both backends), listed under any day from the window's first day on — so a paper added to a day whose digest had
  gone out, or submitted after the send hour, goes out in the next digest, and never twice.
* Sections come in the order of :data:`SECTIONS`; a paper appears once, in the first section that has it.
* Each section has at most ``limit`` papers (``DAILYPAPERS_DIGEST_PAPERS``); an empty section is left out, and a
  digest whose sections are all empty is :attr:`Digest.empty` (it is never sent).
* Every paper carries a reason a reader can check ("trending in cs.LG", "similar to <a paper you upvoted>",
  "matches your saved search 'X'", "new in cs.CL").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from urllib.parse import quote

from sqlalchemy import select

from dailypapers.db.schema import papers as papers_table
from dailypapers.papers.models import Filters, Paper
from dailypapers.papers.service import Papers
from dailypapers.papers.trending import trending

SECTIONS: tuple[str, ...] = ("trending", "picks", "saved", "categories")
"""Every section a subscription may choose, in the order a digest shows them (first section wins a paper)."""
SECTION_TITLES: dict[str, str] = {
    "trending": "Trending",
    "picks": "Picked for you",
    "saved": "Your saved searches",
    "categories": "New in your categories",
}
ACCOUNT_SECTIONS = frozenset({"picks", "saved"})  # they need a user's signals: skipped for an address alone
ABSTRACT_CHARS = 300  # a short abstract: two or three lines in a mail client, cut at a word
MAX_AUTHORS = 6  # then "et al."
CANDIDATE_FACTOR = 3  # papers asked of each source per place: the first section may have taken some already
MAX_DAY_PAPERS = 5000  # the most papers of a window the categories section reads (arXiv lists ~1,000 cs a day)

log = logging.getLogger(__name__)


class Reasoned(Protocol):
    """What a recommendation (``Pick``) and a saved-search match (``AlertMatch``) both offer a digest."""

    @property
    def paper(self) -> Paper: ...

    @property
    def reason(self) -> str: ...


PicksFn = Callable[[str, int, date], Sequence[Reasoned]]  # (user_id, limit, since) -> picks, best first
MatchesFn = Callable[[str, int, date], Sequence[Reasoned]]  # (user_id, limit, since) -> matches, best first


@dataclass(frozen=True)
class Subscriber:
    """What composing needs of a subscription (:class:`dailypapers.mail.subscriptions.Subscription` has more)."""

    id: str
    email: str
    user_id: str | None
    frequency: str
    sections: tuple[str, ...]
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Window:
    """What a digest covers: the papers stored with a key in ``(after_pk, through_pk]`` (no lower bound when
    ``after_pk`` is None: a subscription's first digest) and listed under a day from ``start`` to ``end`` (None: any
    later day). ``period`` is the outbox key (``2026-11-20`` or ``2026-W47``)."""

    period: str
    frequency: str
    start: date
    end: date | None
    day: date  # the subscriber's local day the digest is for (a weekly's Monday, or the day it went out late)
    after_pk: int | None = None  # the newest paper key the previous digest saw
    through_pk: int | None = None  # the newest paper key when this one was composed: the next one's ``after_pk``
    through_id: str = ""  # the id of that paper

    @property
    def label(self) -> str:
        """``Fri 20 Nov`` for a daily digest, ``the week to Mon 23 Nov`` for a weekly one (the day it is for)."""
        day = f"{self.day:%a} {self.day.day} {self.day:%b}"
        return f"the week to {day}" if self.frequency == "weekly" else day

    def has_key(self, pk: int | None) -> bool:
        if pk is None:
            return False
        return (self.after_pk is None or pk > self.after_pk) and (self.through_pk is None or pk <= self.through_pk)

    def covers(self, paper: Paper) -> bool:
        if paper.added_at is None or paper.added_at < self.start:
            return False
        return (self.end is None or paper.added_at <= self.end) and self.has_key(paper.pk)


def newest_key(papers: Papers) -> tuple[int, str]:
    """``(key, id)`` of the newest stored paper (``(0, "")`` when there is none): a digest covers the papers up to
    it. The id is kept too: ``db copy`` gives the papers other keys, in the same order, and the id finds it there."""
    with papers.store.db.read() as conn:
        row = conn.execute(select(papers_table.c.pk, papers_table.c.id).order_by(papers_table.c.pk.desc()).limit(1))
        found = row.first()
    return (int(found.pk), str(found.id)) if found else (0, "")


def key_of(papers: Papers, paper_id: str) -> int | None:
    """The key the paper ``paper_id`` has in this database (hidden or not), None when it is not stored."""
    with papers.store.db.read() as conn:
        return conn.execute(select(papers_table.c.pk).where(papers_table.c.id == paper_id)).scalar_one_or_none()


@dataclass(frozen=True)
class Item:
    """One paper of a digest, ready for a template (every text is plain; the HTML template escapes it)."""

    paper: Paper
    reason: str
    abstract: str
    authors: str
    page_url: str
    abs_url: str | None
    pdf_url: str | None
    label: str = ""  # a relevance label of a pick ("must read"); empty elsewhere

    @property
    def title(self) -> str:
        return self.paper.title


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Digest:
    """A composed digest: the window it covers and its non-empty sections."""

    subscriber: Subscriber
    window: Window
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def count(self) -> int:
        return sum(len(s.items) for s in self.sections)

    @property
    def empty(self) -> bool:
        return self.count == 0


def short_abstract(text: str, limit: int = ABSTRACT_CHARS) -> str:
    """``text`` cut at the last word boundary before ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else text[:limit]
    return cut.rstrip(" ,;:.-–—") + "…"


def author_line(authors: Sequence[str]) -> str:
    if len(authors) > MAX_AUTHORS:
        return ", ".join(authors[:MAX_AUTHORS]) + " et al."
    return ", ".join(authors)


def web_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) link, else None: a hostile record's ``javascript:`` link is never shown."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def paper_page(site: str, paper_id: str) -> str:
    """The absolute URL of a paper's page on this site (the web layer's ``paper_url``, made absolute)."""
    return site.rstrip("/") + "/papers/" + quote(paper_id, safe="/")


@dataclass
class Sources:
    """Where a digest's papers come from: the catalogue, and per-user recommendations and saved-search matches."""

    papers: Papers
    picks: PicksFn | None = None
    matches: MatchesFn | None = None
    _added: dict[tuple[object, ...], list[Paper]] = field(default_factory=dict)

    def added(self, window: Window) -> list[Paper]:
        """The window's papers (hidden ones never), newest first (listed day, then key) — at most
        :data:`MAX_DAY_PAPERS`, the newest stored; cached, since the subscribers of a batch share windows."""
        key = (window.start, window.end, window.after_pk, window.through_pk)
        if key not in self._added:
            listed = self.papers.store.filter_pks(Filters(added_since=window.start, added_until=window.end))
            pks = sorted((pk for pk in listed if window.has_key(pk)), reverse=True)[:MAX_DAY_PAPERS]
            found = [p for p in self.papers.by_pks(pks) if window.covers(p)]
            self._added[key] = sorted(found, key=lambda p: (p.added_at or date.min, p.pk or 0), reverse=True)
        return self._added[key]

    def since(self, window: Window) -> date:
        """The first day a recommendation or saved-search match must look from: the oldest listed day among the
        window's papers (the window's first day when it has none)."""
        return min((p.added_at for p in self.added(window) if p.added_at), default=window.start)


def _trending(sources: Sources, window: Window, want: int, now: datetime) -> list[tuple[Paper, str]]:
    found = trending(sources.added(window), now)[:want]  # the trending order of /trending, in Python (same rule)
    span = " this week" if window.frequency == "weekly" else ""
    out = []
    for paper in found:
        where = f" in {paper.primary_category}" if paper.primary_category else ""
        if paper.upvotes:
            out.append((paper, f"trending{where}{span} ({paper.upvotes} upvote{'s' if paper.upvotes != 1 else ''})"))
        else:  # the window has fewer upvoted papers than places: say what the paper is, not that it trends
            out.append((paper, f"new{where}, no upvotes yet"))
    return out


def _reasoned(found: Sequence[Reasoned]) -> list[tuple[Paper, str, str]]:
    return [(r.paper, r.reason, str(getattr(r, "label", "") or "")) for r in found]


def _categories(sources: Sources, sub: Subscriber, window: Window, want: int) -> list[tuple[Paper, str]]:
    chosen = set(sub.categories)
    out = []
    for paper in sources.added(window):
        hit = next((c for c in [paper.primary_category, *paper.categories] if c in chosen), None)
        if hit:
            out.append((paper, f"new in {hit}"))
            if len(out) >= want:
                break
    return out


def _candidates(
    key: str, sources: Sources, sub: Subscriber, window: Window, want: int, now: datetime
) -> list[tuple[Paper, str, str]]:
    """``(paper, reason, label)`` of one section, best first, before the window and duplicates are filtered."""
    if key == "trending":
        return [(p, r, "") for p, r in _trending(sources, window, want, now)]
    if key == "categories":
        return [(p, r, "") for p, r in _categories(sources, sub, window, want)]
    if sub.user_id is None:
        return []
    fn = sources.picks if key == "picks" else sources.matches
    return _reasoned(fn(sub.user_id, want, sources.since(window))) if fn is not None else []


def compose(sources: Sources, sub: Subscriber, window: Window, *, limit: int, site: str, now: datetime) -> Digest:
    """The digest of ``sub`` for ``window``: at most ``limit`` papers per section, each paper once."""
    seen: set[str] = set()
    sections = []
    chosen: Collection[str] = set(sub.sections)
    for key in SECTIONS:
        if key not in chosen or (key in ACCOUNT_SECTIONS and sub.user_id is None):
            continue
        items = []
        for paper, reason, label in _candidates(key, sources, sub, window, limit * CANDIDATE_FACTOR, now):
            if paper.id in seen or not window.covers(paper):
                continue
            seen.add(paper.id)
            items.append(_item(paper, reason, label, site))
            if len(items) >= limit:
                break
        if items:
            sections.append(Section(key, SECTION_TITLES[key], tuple(items)))
    return Digest(sub, window, tuple(sections))


def _item(paper: Paper, reason: str, label: str, site: str) -> Item:
    return Item(
        paper=paper,
        reason=reason,
        abstract=short_abstract(paper.abstract),
        authors=author_line(paper.authors),
        page_url=paper_page(site, paper.id),
        abs_url=web_url(paper.abs_url),
        pdf_url=web_url(paper.pdf_url),
        label=label,
    )
