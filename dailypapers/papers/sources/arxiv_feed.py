"""Read arXiv's daily announcement feeds: ``<base>/atom/<cats>`` (Atom 1.0) or ``<base>/rss/<cats>`` (RSS 2.0).

``<cats>`` is one or more categories joined with ``+`` (``cs.LG+stat.ML``). Each item announces one paper:

* ``arxiv:announce_type`` says how: ``new`` (first version), ``cross`` (cross-listed into these categories),
  ``replace`` or ``replace-cross`` (a new version of a paper announced earlier);
* the description starts ``arXiv:2412.01234v1 Announce Type: new \\nAbstract: ...``: the abstract is what follows
  ``Abstract:``; the version comes from the guid (``oai:arXiv.org:2412.01234v1``), else from that prefix;
* ``dc:creator`` holds the author list as one string (``A. One, B. Two``), ``category`` one category each;
* ``pubDate`` (RSS) / ``published`` (Atom) is the announcement day, read as written (arXiv's own time zone), so a
  paper announced on Monday is Monday's paper wherever the server runs.

:func:`read_arxiv_feed` yields an :class:`Announcement` per good item and a
:class:`~dailypapers.papers.sources.base.Rejected` (``item N``) per malformed one; deciding what an announcement
does to the catalogue is :mod:`dailypapers.papers.announcements`'. Weekends and holidays are normal: the feed then
has no items (its ``skipDays`` names Saturday and Sunday) and nothing is yielded.

Hostile XML: feedparser neutralises entity declarations on its own, but silently (it falls back to a loose parser
and keeps ``&name;`` as text). An announcement feed never has a DTD, so the bytes are first checked with
defusedxml, which refuses any DTD, entity declaration or external reference: such a feed, or one that is not
well-formed XML, or one larger than :data:`MAX_FEED_BYTES`, raises :class:`SourceError` with a clear message and
nothing of it is imported.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import feedparser  # type: ignore[import-untyped]
import httpx

from dailypapers.papers.models import InvalidRecord, Paper, make_paper, normalize_space, parse_arxiv_id
from dailypapers.papers.sources.base import Rejected, SourceError, parse_untrusted_xml

if TYPE_CHECKING:
    from dailypapers.config import Config

DEFAULT_URL = "https://rss.arxiv.org"
FORMATS = ("atom", "rss")
ANNOUNCE_KINDS = ("new", "cross", "replace", "replace-cross")
LISTED_KINDS = frozenset({"new", "cross"})
"""Kinds that put a paper on the day's list; the others only bring a new version of a stored paper."""
MAX_FEED_BYTES = 32 * 1024 * 1024  # the biggest real feeds (all of cs) are a few MB
USER_AGENT = "dailypapers (self-hosted paper digest; arXiv announcement feeds)"
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")
_DESCRIPTION = re.compile(r"^\s*arXiv:(\S+)\s+Announce Type:\s*(\S+)\s+Abstract:\s*(.*)$", re.DOTALL | re.IGNORECASE)
_GUID_PREFIX = "oai:arxiv.org:"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Announcement:
    """One feed item: ``kind`` (one of :data:`ANNOUNCE_KINDS`), the announcement ``day`` and the ``paper``."""

    kind: str
    day: date
    paper: Paper

    @property
    def listed(self) -> bool:
        """True for ``new`` and ``cross``: the paper joins that day's list."""
        return self.kind in LISTED_KINDS


FeedRecord = Announcement | Rejected


def feed_options(config: Config) -> dict[str, Any]:
    """The feed settings from a :class:`~dailypapers.config.Config`, as keyword arguments for
    :func:`read_arxiv_feed`."""
    return {"base_url": config.arxiv_feed_url, "timeout": config.http_timeout}


def feed_url(categories: Sequence[str], *, base_url: str = DEFAULT_URL, fmt: str = "atom") -> str:
    """The feed address of ``categories`` (``https://rss.arxiv.org/atom/cs.LG+stat.ML``); raises
    :class:`SourceError` for an unknown format or a string that is not an arXiv category, before any request."""
    if fmt not in FORMATS:
        raise SourceError(f"unknown feed format {fmt!r} (expected atom or rss)")
    cats = [c.strip() for c in categories if c.strip()]
    if not cats:
        raise SourceError("name at least one arXiv category, e.g. cs.LG")
    for cat in cats:
        if len(cat) > 40 or not _CATEGORY.match(cat):
            raise SourceError(f"not an arXiv category: {cat[:60]!r} (expected e.g. cs.LG or hep-th)")
    return f"{base_url.rstrip('/')}/{fmt}/{'+'.join(dict.fromkeys(cats))}"


def _download(url: str, timeout: float, client: httpx.Client | None) -> bytes:
    """The body at ``url``, at most :data:`MAX_FEED_BYTES`; :class:`SourceError` for any failure."""
    http = client or httpx.Client(follow_redirects=True, headers={"User-Agent": USER_AGENT})
    try:
        with http.stream("GET", url, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise SourceError(f"cannot fetch {url}: HTTP {resp.status_code}")
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_FEED_BYTES:
                    raise SourceError(f"{url}: feed larger than {MAX_FEED_BYTES // 2**20} MiB; refused")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc
    finally:
        if client is None:
            http.close()
    return b"".join(chunks)


def _day(raw: str | None) -> date:
    """The announcement day as written in the feed (RFC 822 for RSS, ISO 8601 for Atom)."""
    text = normalize_space(raw)
    if not text:
        raise InvalidRecord("missing announcement date (pubDate / published)")
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        raise InvalidRecord(f"announcement date is not a date: {text[:60]!r}") from None


def _authors(entry: Any) -> list[str]:
    """Author names: arXiv puts them all in one ``dc:creator``, comma-separated (some feeds end with ``and``)."""
    names: list[str] = []
    for author in entry.get("authors") or []:
        for part in re.split(r",|\band\b", str(author.get("name") or "")):
            if part.strip():
                names.append(part.strip())
    return names


def announcement_from_entry(entry: Any) -> Announcement:
    """One feedparser entry as an :class:`Announcement`; raises :class:`InvalidRecord` when it is malformed."""
    description = _DESCRIPTION.match(str(entry.get("summary") or ""))
    kind = normalize_space(entry.get("arxiv_announce_type") or (description.group(2) if description else "")).lower()
    if kind not in ANNOUNCE_KINDS:
        raise InvalidRecord(f"unknown announce type {kind[:40]!r} (expected {', '.join(ANNOUNCE_KINDS)})")
    guid = normalize_space(entry.get("id"))
    if guid.lower().startswith(_GUID_PREFIX):
        guid = guid[len(_GUID_PREFIX) :]
    candidates = [guid, description.group(1) if description else "", normalize_space(entry.get("link"))]
    arxiv_id = next((c for c in candidates if c and parse_arxiv_id(c)), None)
    if arxiv_id is None:
        raise InvalidRecord(f"no arXiv id in guid, description or link ({guid[:60]!r})")
    day = _day(entry.get("published"))
    categories = [str(t.get("term")) for t in entry.get("tags") or [] if t.get("term")]
    paper = make_paper(
        title=entry.get("title"),
        abstract=description.group(3) if description else entry.get("summary"),
        arxiv_id=arxiv_id,
        source="arxiv-feed",
        authors=_authors(entry),
        categories=categories,
        abs_url=entry.get("link") or None,
    )
    return Announcement(kind, day, paper)


def parse_announcements(body: bytes, where: str) -> list[FeedRecord]:
    """The announcements of one feed document, once defusedxml has checked it (the module docstring says why); an
    empty list on weekends and holidays."""
    parse_untrusted_xml(body, where, expected="an announcement feed", refusal="refused unsafe XML")
    parsed = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=False)
    if not str(parsed.get("version") or "").startswith(("rss", "atom")):
        raise SourceError(f"{where}: not an RSS or Atom feed")
    records: list[FeedRecord] = []
    for number, entry in enumerate(parsed.entries, 1):
        try:
            records.append(announcement_from_entry(entry))
        except InvalidRecord as exc:
            records.append(Rejected(f"item {number}", str(exc)))
    if not records:  # feedparser does not keep skipDays' days, and an empty feed needs no reason anyway
        log.info("%s: no announcements (a weekend or holiday)", where)
    return records


def read_arxiv_feed(
    categories: Sequence[str],
    *,
    base_url: str = DEFAULT_URL,
    fmt: str = "atom",
    timeout: float = 60.0,
    client: httpx.Client | None = None,
) -> Iterator[FeedRecord]:
    """Yield today's announcements of ``categories`` (``["cs.LG", "stat.ML"]``) from arXiv's feed at ``base_url``."""
    url = feed_url(categories, base_url=base_url, fmt=fmt)
    yield from parse_announcements(_download(url, timeout, client), url)
