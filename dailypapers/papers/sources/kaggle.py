"""Import the Kaggle "arXiv dataset" snapshot (``arxiv-metadata-oai-snapshot.json``, several GB).

The file holds one JSON object per line with the fields ``id``, ``submitter``, ``authors`` (one string),
``title``, ``comments``, ``journal-ref``, ``doi``, ``report-no``, ``categories`` (space-separated, first is
primary), ``license``, ``abstract``, ``versions`` (``[{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42
GMT"}, ...]``), ``update_date`` and ``authors_parsed`` (``[[last, first, suffix], ...]``).

It is streamed line by line and never loaded whole. ``published`` is the creation time of v1, ``updated`` that of
the latest version, ``version`` the latest version's number. Names come from ``authors_parsed`` ("First Last
Suffix") when present, else from the ``authors`` string. Records outside the category or date filters are skipped
silently; malformed records are yielded as :class:`Rejected` (``line N``), among them a version or date out of
range (``v99999999999999999999999``, ``Fri, 31 Dec 9999 23:59:59 -0100``, which overflows in UTC).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from dailypapers.papers.models import InvalidRecord, Paper, make_paper, normalize_space, utc_field
from dailypapers.papers.sources.base import Record, Rejected
from dailypapers.papers.sources.jsonl import (
    iter_lines,
    load_json_object,
    optional_str,
    required_text,
    split_authors,
    split_categories,
)

_VERSION_RE = re.compile(r"^v?(\d+)$", re.IGNORECASE)


def category_matches(wanted: set[str], categories: list[str]) -> bool:
    """True when any category equals a wanted one, or lies in a wanted archive (``cs`` matches ``cs.LG``)."""
    return any(c in wanted or c.split(".", 1)[0] in wanted for c in categories)


def parse_rfc2822(value: Any, field: str) -> datetime:
    """An RFC 2822 date (``Mon, 2 Apr 2007 19:18:42 GMT``) as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(f"{field} is missing")
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        raise InvalidRecord(f"{field} is not an RFC 2822 date: {value!r}") from None
    result = utc_field(dt, field)
    assert result is not None
    return result


def parse_versions(value: Any) -> tuple[datetime | None, datetime | None, int | None]:
    """``(published, updated, version)`` from a Kaggle ``versions`` list: v1's date, the latest's date and number."""
    if value is None or value == []:
        return None, None, None
    if not isinstance(value, list):
        raise InvalidRecord("versions must be a list")
    dated: list[tuple[int, datetime]] = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise InvalidRecord(f"versions[{i}] is not an object")
        m = _VERSION_RE.match(str(item.get("version", "")).strip())
        if not m:
            raise InvalidRecord(f"versions[{i}] has a bad version {item.get('version')!r}")
        try:
            number = int(m.group(1))  # its range is checked by make_paper, for every source alike
        except ValueError:  # more digits than Python converts (4300)
            raise InvalidRecord(f"versions[{i}] has a bad version (too many digits)") from None
        dated.append((number, parse_rfc2822(item.get("created"), f"versions[{i}].created")))
    dated.sort(key=lambda pair: pair[0])
    return dated[0][1], dated[-1][1], dated[-1][0]


def parse_update_date(value: Any) -> datetime | None:
    """The ``update_date`` field (``2008-11-13``) as midnight UTC, or ``None`` when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.combine(date.fromisoformat(value.strip()), datetime.min.time(), UTC)
    except ValueError:
        return None


def names_from_parsed(value: Any) -> list[str]:
    """Names "First Last Suffix" from ``authors_parsed`` (``[[last, first, suffix], ...]``), in order."""
    if not isinstance(value, list):
        raise InvalidRecord("authors_parsed must be a list")
    names = []
    for item in value:
        if not isinstance(item, list) or not all(isinstance(p, str) for p in item):
            raise InvalidRecord("authors_parsed entries must be lists of strings")
        last, first, suffix = [*item, "", "", ""][:3]
        name = normalize_space(" ".join((first, last, suffix)))
        if name:
            names.append(name)
    return names


def paper_from_kaggle(obj: dict[str, Any]) -> Paper:
    """Build a paper from one snapshot record."""
    arxiv_id = obj.get("id")
    if not isinstance(arxiv_id, str) or not arxiv_id.strip():
        raise InvalidRecord("missing id" if arxiv_id in (None, "") else "id must be a string")
    published, updated, version = parse_versions(obj.get("versions"))
    if updated is None:
        updated = parse_update_date(obj.get("update_date"))
    authors = names_from_parsed(obj["authors_parsed"]) if obj.get("authors_parsed") else []
    if not authors:
        authors = split_authors(obj.get("authors"))
    categories = split_categories(obj.get("categories"))
    return make_paper(
        title=required_text(obj, "title"),
        abstract=required_text(obj, "abstract"),
        arxiv_id=arxiv_id.strip(),
        source="kaggle",
        version=version,
        authors=authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=published,
        updated=updated,
        comment=optional_str(obj, "comments"),
        journal_ref=optional_str(obj, "journal-ref"),
        doi=optional_str(obj, "doi"),
    )


def _prefilter(categories: set[str] | None) -> list[str] | None:
    """Strings of which a raw line must contain one to possibly match the category filter (a cheap skip that
    avoids parsing most lines). ``None`` when a category could be escaped differently in JSON."""
    if not categories or not all(c.isascii() and c.isprintable() and not set(c) & set('"\\/') for c in categories):
        return None
    return sorted(categories)


def read_kaggle(
    path: str | Path,
    categories: set[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Iterator[Record]:
    """Stream papers from a Kaggle arXiv snapshot, keeping those in ``categories`` published in [since, until].

    ``categories`` matches any of a paper's categories (an archive name such as ``cs`` matches all of its
    subjects). Dates apply to the v1 publication day (``update_date`` when a record has no versions); a record
    with no date at all is skipped when a date filter is given.
    """
    wanted = {c.strip() for c in categories if c.strip()} if categories else None
    needles = _prefilter(wanted)
    for number, text in iter_lines(path):
        if needles is not None and isinstance(text, str) and not any(n in text for n in needles):
            continue
        try:
            obj = load_json_object(text)
            if wanted is not None and not category_matches(wanted, split_categories(obj.get("categories"))):
                continue
            paper = paper_from_kaggle(obj)
        except InvalidRecord as exc:
            yield Rejected(f"line {number}", str(exc))
            continue
        if since is not None or until is not None:
            when = paper.published or paper.updated
            if when is None:
                continue
            day = when.date()
            if (since is not None and day < since) or (until is not None and day > until):
                continue
        yield paper
