"""Conversion between :class:`~dailypapers.papers.models.Paper` and the flat row both backends store.

Shared by the SQLite and PostgreSQL stores so that the two write exactly the same values.

Upvotes: the ``upvotes`` column holds the imported count (e.g. Hugging Face's) and ``votes_count`` the number of
rows in ``votes`` (kept by triggers, see migration 0002). A paper read from the store has ``upvotes`` = their sum
and ``votes`` = ``votes_count``; writing a paper stores ``upvotes - votes``, so a paper read, changed and written
back (or copied to another database) never counts its community votes twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from dailypapers.papers.models import Paper, normalize_title, utc

# Columns written on insert/update, in a fixed order (the store builds its SQL from this list).
PAPER_COLUMNS = (
    "id", "version", "title", "title_norm", "abstract", "author_names", "authors_json", "categories",
    "primary_category", "published", "updated", "added_at", "display_date", "comment", "journal_ref", "doi",
    "abs_url", "pdf_url", "code_url", "project_url", "upvotes", "source", "content_hash", "text_hash",
)  # fmt: skip


def text_hash(paper: Paper) -> str:
    """Hash of the text the embedding is computed from: a change means the embedding must be recomputed."""
    return hashlib.sha256(paper.embedding_text().encode()).hexdigest()[:16]


def paper_to_row(paper: Paper) -> dict[str, Any]:
    """The column values for ``paper`` (dates as ISO strings, lists flattened)."""
    if paper.added_at is None:
        raise ValueError(f"paper {paper.id} has no added_at")
    affiliations = list(paper.affiliations) + [None] * (len(paper.authors) - len(paper.affiliations))
    display = paper.display_date or paper.added_at
    return {
        "id": paper.id,
        "version": paper.version,
        "title": paper.title,
        "title_norm": normalize_title(paper.title),
        "abstract": paper.abstract,
        "author_names": ", ".join(paper.authors),
        "authors_json": json.dumps(
            [[a, f] for a, f in zip(paper.authors, affiliations[: len(paper.authors)], strict=True)]
        ),
        "categories": " ".join(paper.categories),
        "primary_category": paper.primary_category,
        "published": _iso(paper.published),
        "updated": _iso(paper.updated),
        "added_at": paper.added_at.isoformat(),
        "display_date": display.isoformat(),
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "upvotes": imported_upvotes(paper),
        "source": paper.source,
        "content_hash": paper.content_hash(),
        "text_hash": text_hash(paper),
    }


def row_to_paper(row: Mapping[str, Any]) -> Paper:
    """Rebuild a :class:`Paper` from a stored row (either backend's)."""
    pairs = json.loads(row["authors_json"] or "[]")
    return Paper(
        pk=row["pk"],
        id=row["id"],
        version=row["version"],
        title=row["title"],
        abstract=row["abstract"],
        authors=[a for a, _ in pairs],
        affiliations=[f for _, f in pairs],
        categories=(row["categories"] or "").split(),
        primary_category=row["primary_category"],
        published=_parse_dt(row["published"]),
        updated=_parse_dt(row["updated"]),
        added_at=_parse_date(row["added_at"]),
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
        abs_url=row["abs_url"],
        pdf_url=row["pdf_url"],
        code_url=row["code_url"],
        project_url=row["project_url"],
        upvotes=row["upvotes"] + row["votes_count"],
        source=row["source"],
        votes=row["votes_count"],
    )


def imported_upvotes(paper: Paper) -> int:
    """The part of ``paper.upvotes`` that came from its source (the rest are community votes)."""
    return max(paper.upvotes - paper.votes, 0)


def _iso(dt: datetime | None) -> str | None:
    return utc(dt).isoformat() if dt else None  # type: ignore[union-attr]


def _parse_dt(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return utc(value)
    return utc(datetime.fromisoformat(value))


def _parse_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def decide(stored: Mapping[str, Any] | None, paper: Paper) -> str:
    """What an upsert does with ``paper`` given the stored row: "add", "update" or "keep".

    An older arXiv version never replaces a newer one; identical content is kept as it is.
    """
    if stored is None:
        return "add"
    if (paper.version or 0) < (stored["version"] or 0):
        return "keep"
    if paper.content_hash() == stored["content_hash"] and imported_upvotes(paper) <= stored["upvotes"]:
        return "keep"
    return "update"
