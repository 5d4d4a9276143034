"""One digest, composed: the sections a subscriber chose, each a list of papers with the reason they are there.

:func:`compose` reads only what it is given — the catalogue (:class:`dailypapers.papers.service.Papers`) and, for
subscribers with an account, their recommendations and saved-search matches as two callables — so it runs the same
for ``dailypapers digest preview``, the ``digest.send`` job and the tests. Rendering is :mod:`dailypapers.mail.render`.

The rules, in one place:

* Only papers *added* in the digest's :class:`Window` (the day(s) it covers) appear, whatever section found them.
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

from dailypapers.papers.models import Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.service import Papers

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
    """The digest's period key (``2026-11-20`` or ``2026-W47``) and the days whose added papers it shows."""

    period: str
    frequency: str
    start: date
    end: date
    day: date  # the subscriber's local day the digest is for (a weekly's Monday, or the day it went out late)

    @property
    def label(self) -> str:
        """``Fri 20 Nov`` for a daily digest, ``the week to Mon 23 Nov`` for a weekly one (the day it is for)."""
        day = f"{self.day:%a} {self.day.day} {self.day:%b}"
        return f"the week to {day}" if self.frequency == "weekly" else day

    def covers(self, paper: Paper) -> bool:
        return paper.added_at is not None and self.start <= paper.added_at <= self.end


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
    _added: dict[tuple[date, date], list[Paper]] = field(default_factory=dict)

    def added(self, window: Window) -> list[Paper]:
        """The window's papers, newest first; cached, since every subscriber of a batch asks for the same days."""
        key = (window.start, window.end)
        if key not in self._added:
            period = Period("range", window.start, window.end)
            self._added[key] = self.papers.in_period(period, limit=MAX_DAY_PAPERS, sort="added")
        return self._added[key]


def _trending(sources: Sources, window: Window, want: int, now: datetime) -> list[tuple[Paper, str]]:
    period = Period("range", window.start, window.end)
    found = sources.papers.in_period(period, limit=want, sort="trending", now=now)
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
    return _reasoned(fn(sub.user_id, want, window.start)) if fn is not None else []


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
