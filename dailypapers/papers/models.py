"""The paper record every layer passes around, and the rules that give a paper its id.

A paper is identified by its arXiv id without version (``2106.09685``, ``hep-th/9901001``) when one is known,
otherwise by a stable id derived from its normalised title (``dp-`` + 12 hex digits), so that importing the same
paper twice never creates two rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

# New-style ids (0704.0001 onwards, 4 or 5 digits after the dot) and old-style ids (archive[.SUB]/YYMMNNN).
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID_RE = re.compile(
    rf"^(?:arxiv:)?(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)?({_NEW_ID}|{_OLD_ID})(?:v(\d+))?(?:\.pdf)?$",
    re.IGNORECASE,
)
TITLE_ID_PREFIX = "dp-"
_URL_RE = re.compile(r"https?://[^\s<>\"'{}|\\^`\]\[)]+")
_CODE_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "huggingface.co/", "codeberg.org/")


class InvalidRecord(ValueError):
    """A source record that cannot become a paper; the message says why."""


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Return ``(id, version)`` for anything that names an arXiv paper (bare id, ``arXiv:`` id, abs/pdf URL)."""
    m = ARXIV_ID_RE.match(text.strip())
    if not m:
        return None
    base = m.group(1)
    if "/" not in base:  # YYMM.NNNN until 1412, YYMM.NNNNN from 1501 on
        yymm, num = base.split(".")
        if not 1 <= int(yymm[2:]) <= 12 or len(num) != (4 if yymm < "1501" else 5):
            return None
    else:  # old style: archive is lower case, subject class upper case
        archive, num = base.split("/")
        head, _, sub = archive.partition(".")
        base = f"{head.lower()}.{sub.upper()}/{num}" if sub else f"{head.lower()}/{num}"
    return base, int(m.group(2)) if m.group(2) else None


def normalize_space(text: str | None) -> str:
    """Collapse hard line breaks and runs of whitespace into single spaces (LaTeX is kept as written)."""
    return " ".join((text or "").split())


def normalize_title(title: str) -> str:
    """Lower-case, accent-free, punctuation-free form of a title: equal for the same paper from any source."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return " ".join(text.split())


def title_id(title: str) -> str:
    """The stable id of a paper that has no arXiv id: derived from its normalised title."""
    norm = normalize_title(title)
    if not norm:
        raise InvalidRecord("title is empty")
    return TITLE_ID_PREFIX + hashlib.sha256(norm.encode()).hexdigest()[:12]


def find_links(abstract: str) -> tuple[str | None, str | None]:
    """Return ``(code_url, project_url)`` found in an abstract: the first code-host link and the first other link."""
    code = project = None
    for raw in _URL_RE.findall(abstract):
        url = raw.rstrip(".,;:")
        if any(h in url.lower() for h in _CODE_HOSTS):
            code = code or url
        elif "arxiv.org" not in url.lower():
            project = project or url
    return code, project


def utc(dt: datetime | None) -> datetime | None:
    """The same instant as an aware UTC datetime (naive values are taken to be UTC already)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


@dataclass
class Paper:
    """One paper as stored. ``added_at`` is the day it entered the daily list; the daily pages group by it."""

    id: str
    title: str
    abstract: str
    version: int | None = None
    authors: list[str] = field(default_factory=list)
    affiliations: list[str | None] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    added_at: date | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    upvotes: int = 0
    source: str = "jsonl"
    pk: int | None = None
    votes: int = 0
    """How many of ``upvotes`` are dailypapers' own community votes (set by the store when it reads a paper).
    ``upvotes`` is the total shown everywhere: the imported count (e.g. Hugging Face's) plus these."""

    @property
    def is_arxiv(self) -> bool:
        return not self.id.startswith(TITLE_ID_PREFIX)

    @property
    def display_date(self) -> date | None:
        """The date shown and filtered on: the arXiv publication day, else the day it was added."""
        return self.published.date() if self.published else self.added_at

    def embedding_text(self) -> str:
        """The text the embedding model sees: title and abstract."""
        return f"{self.title}. {self.abstract}"

    def content_hash(self) -> str:
        """Hash of what a source says about the paper (not ``added_at``, ``pk``, ``upvotes``, ``votes``): equal =
        unchanged."""
        data = dataclasses.asdict(self)
        for key in ("added_at", "pk", "upvotes", "votes"):
            data.pop(key)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def make_paper(
    *,
    title: str | None,
    abstract: str | None,
    arxiv_id: str | None = None,
    source: str,
    **fields: object,
) -> Paper:
    """Build a validated :class:`Paper` from a source's fields: normalises text, derives id and links.

    Raises :class:`InvalidRecord` with a reason when the record lacks a title or abstract or has a bad id.
    """
    title_s = normalize_space(title)
    abstract_s = normalize_space(abstract)
    if not title_s:
        raise InvalidRecord("missing title")
    if not abstract_s:
        raise InvalidRecord("missing abstract")
    version = fields.pop("version", None)
    if arxiv_id:
        parsed = parse_arxiv_id(str(arxiv_id))
        if parsed is None:
            raise InvalidRecord(f"not an arXiv id: {arxiv_id!r}")
        pid, id_version = parsed
        version = version or id_version
        fields.setdefault("abs_url", f"https://arxiv.org/abs/{pid}")
        fields.setdefault("pdf_url", f"https://arxiv.org/pdf/{pid}")
    else:
        pid = title_id(title_s)
    code, project = find_links(abstract_s)
    fields.setdefault("code_url", code)
    fields.setdefault("project_url", project)
    for key in ("published", "updated"):
        fields[key] = utc(fields.get(key))  # type: ignore[arg-type]
    categories = [str(c) for c in fields.get("categories") or []]  # type: ignore[attr-defined]
    fields["categories"] = categories
    fields.setdefault("primary_category", categories[0] if categories else None)
    authors = [normalize_space(a) for a in fields.pop("authors", None) or [] if normalize_space(a)]  # type: ignore[attr-defined]
    return Paper(
        id=pid,
        title=title_s,
        abstract=abstract_s,
        version=int(version) if version else None,  # type: ignore[call-overload]
        authors=authors,
        source=source,
        **fields,  # type: ignore[arg-type]
    )
