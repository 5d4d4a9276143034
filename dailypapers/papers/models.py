"""The paper record every layer passes around, and the rules that give a paper its id.

A paper is identified by its arXiv id without version (``2106.09685``, ``hep-th/9901001``) when one is known,
otherwise by a stable id derived from its normalised title (``dp-`` + 12 hex digits), so that importing the same
paper twice never creates two rows.

:func:`make_paper` is the one gate every source passes through, so the rules that protect the rest of the system
from hostile input live there once: control characters are removed from every text field (a title must not be able
to drive the terminal of whoever runs ``dailypapers search``), numbers are bounded to what both databases store
(:data:`MAX_UPVOTES`, :data:`MAX_VERSION`), and a date that cannot be expressed in UTC is an invalid record, never a
crash.

:class:`Filters` (the search filters every read path takes) lives here too, beside the record it filters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from dailypapers.errors import BadInput

# New-style ids (0704.0001 onwards, 4 or 5 digits after the dot) and old-style ids (archive[.SUB]/YYMMNNN).
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID_RE = re.compile(
    rf"^(?:arxiv:)?(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)?({_NEW_ID}|{_OLD_ID})(?:v(\d+))?(?:\.pdf)?$",
    re.IGNORECASE,
)
TITLE_ID_PREFIX = "dp-"
MAX_UPVOTES = 1_000_000_000
"""Largest imported upvote count. PostgreSQL stores upvotes (and community votes) as 32-bit INTEGERs and sorts by
their sum, so the bound leaves room below 2**31 for a billion community votes; SQLite's 64-bit integers hold it too."""
MAX_VERSION = 9_999
"""Largest arXiv version number accepted (real papers stay far below a hundred; both databases store it)."""
_MAX_VERSION_DIGITS = 18  # longer version suffixes are not converted at all (int() of huge strings is slow/refused)
_URL_RE = re.compile(r"https?://[^\s<>\"'{}|\\^`\]\[)]+")
_CODE_HOSTS = ("github.com/", "gitlab.com/", "bitbucket.org/", "huggingface.co/", "codeberg.org/")


class InvalidRecord(ValueError):
    """A source record that cannot become a paper; the message says why."""


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Return ``(id, version)`` for anything that names an arXiv paper (bare id, ``arXiv:`` id, abs/pdf URL)."""
    m = ARXIV_ID_RE.match(text.strip())
    if not m:
        return None
    base, version = m.group(1), m.group(2)
    if version is not None and len(version) > _MAX_VERSION_DIGITS:
        return None
    if "/" not in base:  # YYMM.NNNN until 1412, YYMM.NNNNN from 1501 on
        yymm, num = base.split(".")
        if not 1 <= int(yymm[2:]) <= 12 or len(num) != (4 if yymm < "1501" else 5):
            return None
    else:  # old style: archive is lower case, subject class upper case
        archive, num = base.split("/")
        head, _, sub = archive.partition(".")
        base = f"{head.lower()}.{sub.upper()}/{num}" if sub else f"{head.lower()}/{num}"
    return base, int(version) if version else None


# C0 controls, DEL and C1 controls: whitespace among them (tab, line breaks, NEL, separators) becomes a space,
# the rest (NUL, BEL, ESC, ...) is deleted; lone surrogates (JSON text may hold "\ud800") cannot be stored in UTF-8.
_CONTROLS = {c: (" " if chr(c).isspace() else None) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def strip_controls(text: str) -> str:
    """``text`` without control characters: whitespace controls become spaces, the others are removed, and lone
    surrogates become U+FFFD."""
    return _SURROGATES.sub("\N{REPLACEMENT CHARACTER}", text.translate(_CONTROLS))


def normalize_space(text: str | None) -> str:
    """Collapse hard line breaks and runs of whitespace into single spaces (LaTeX is kept as written)."""
    return " ".join((text or "").split())


def clean_text(text: str | None) -> str:
    """:func:`strip_controls` then :func:`normalize_space`: the form every text field of a :class:`Paper` has."""
    return normalize_space(strip_controls(text or ""))


def checked_text(value: object, what: str, limit: int) -> str:
    """A field a person wrote (a collection's name, a saved query), as :func:`clean_text` stores it;
    :class:`BadInput` naming ``what`` when it is not text or longer than ``limit`` characters once cleaned."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text.")
    text = clean_text(value)
    if len(text) > limit:
        raise BadInput(f"{what} can be at most {limit:,} characters (this one has {len(text):,}).")
    return text


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


def author_slug(name: str) -> str:
    """The URL slug of an author name (``Ada Lovelace`` -> ``ada-lovelace``, ``Zoë Müller`` -> ``zoe-muller``):
    accents folded, letters of every script kept, anything else a single hyphen. Two spellings that differ only in
    case, accents or punctuation (``J. Smith``, ``J Smith``) share one author page, which is what a reader wants."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return "-".join(re.findall(r"[^\W_]+", text))[:200]


def utc(dt: datetime | None) -> datetime | None:
    """The same instant as an aware UTC datetime (naive values are taken to be UTC already)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def utc_field(dt: datetime | None, field: str) -> datetime | None:
    """:func:`utc` for a source's date field: an instant outside years 1-9999 in UTC (``9999-12-31T23:59:59-01:00``)
    is an :class:`InvalidRecord` naming ``field``, not an ``OverflowError``."""
    try:
        return utc(dt)
    except OverflowError:
        raise InvalidRecord(f"{field} is out of range in UTC: {dt!s}") from None


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


@dataclass(frozen=True)
class Filters:
    """Search filters. ``since``/``until`` apply to the paper's display date (arXiv publication day, else day
    added); ``added_since``/``added_until`` to the day it was added here (``added_at``: what saved-search alerts
    ask for, "new on this site since Monday", whatever the paper's own date).

    ``category`` matches any of the paper's categories; ``author`` is a case-insensitive substring of any
    author's name.
    """

    since: date | None = None
    until: date | None = None
    category: str | None = None
    author: str | None = None
    added_since: date | None = None
    added_until: date | None = None

    @property
    def active(self) -> bool:
        values = (self.since, self.until, self.category, self.author, self.added_since, self.added_until)
        return any(v is not None for v in values)


_URL_FIELDS = ("abs_url", "pdf_url", "code_url", "project_url")
_TEXT_FIELDS = ("comment", "journal_ref", "doi", "abs_url", "pdf_url", "code_url", "project_url", "primary_category")


def _bounded_int(value: object, name: str, low: int, high: int) -> int:
    """``value`` as an int in [low, high]; an :class:`InvalidRecord` otherwise (the databases cannot store more)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord(f"{name} must be an integer, got {type(value).__name__}")
    if not low <= value <= high:  # the message never prints the number: str() of a huge int can itself fail
        raise InvalidRecord(f"{name} is out of range (from {low:,} to {high:,})")
    return value


def _paper_id(arxiv_id: object, title: str) -> tuple[str, int | None]:
    """``(id, version from the id)``: an arXiv id, dailypapers' own title id (as exported) or, without one, the
    title id."""
    if not arxiv_id:
        return title_id(title), None
    text = str(arxiv_id).strip()
    if text.startswith(TITLE_ID_PREFIX):  # our own export (JSONL, /api/daily_papers): it must name this title
        if text != title_id(title):
            raise InvalidRecord(f"id {text!r} does not match the title (expected {title_id(title)!r})")
        return text, None
    parsed = parse_arxiv_id(text)
    if parsed is None:
        raise InvalidRecord(f"not an arXiv id: {arxiv_id!r}")
    return parsed


def _authors(names: object, affiliations: object) -> tuple[list[str], list[str | None]]:
    """Cleaned author names, empty ones dropped together with their affiliation (the lists stay aligned)."""
    names_in = [clean_text(str(a)) for a in names or []]  # type: ignore[attr-defined]
    affs_in = [clean_text(a) or None if a is not None else None for a in affiliations or []]  # type: ignore[attr-defined]
    kept = [(i, name) for i, name in enumerate(names_in) if name]
    authors = [name for _, name in kept]
    affs = [affs_in[i] if i < len(affs_in) else None for i, _ in kept] if affs_in else []
    return authors, affs


def make_paper(
    *,
    title: str | None,
    abstract: str | None,
    arxiv_id: str | None = None,
    source: str,
    **fields: object,
) -> Paper:
    """Build a validated :class:`Paper` from a source's fields: cleans text, derives id and links, bounds numbers.

    Raises :class:`InvalidRecord` with a reason when the record lacks a title or abstract, has a bad id, an
    upvote count or version out of range, or a date that overflows in UTC.
    """
    title_s = clean_text(title)
    abstract_s = clean_text(abstract)
    if not title_s:
        raise InvalidRecord("missing title")
    if not abstract_s:
        raise InvalidRecord("missing abstract")
    pid, id_version = _paper_id(arxiv_id, title_s)
    for key in _URL_FIELDS:  # a source's "link" that is no web address (javascript:, an OAI guid) is dropped
        if fields.get(key) is not None and not str(fields[key]).strip().lower().startswith(("https://", "http://")):
            del fields[key]
    version = fields.pop("version", None) or id_version
    if version is not None:
        version = _bounded_int(version, "version", 1, MAX_VERSION)
    if not pid.startswith(TITLE_ID_PREFIX):
        fields.setdefault("abs_url", f"https://arxiv.org/abs/{pid}")
        fields.setdefault("pdf_url", f"https://arxiv.org/pdf/{pid}")
    fields["upvotes"] = _bounded_int(fields.get("upvotes") or 0, "upvotes", 0, MAX_UPVOTES)
    for key in _TEXT_FIELDS:
        value = fields.get(key)
        fields[key] = (clean_text(str(value)) or None) if value is not None else None
    code, project = find_links(abstract_s)
    fields["code_url"] = fields["code_url"] or code
    fields["project_url"] = fields["project_url"] or project
    for key in ("published", "updated"):
        fields[key] = utc_field(fields.get(key), key)  # type: ignore[arg-type]
    raw_categories: list[object] = list(fields.get("categories") or [])  # type: ignore[call-overload]
    categories = list(dict.fromkeys(c for c in (clean_text(str(c)) for c in raw_categories) if c))
    fields["categories"] = categories
    fields["primary_category"] = fields["primary_category"] or (categories[0] if categories else None)
    authors, fields["affiliations"] = _authors(fields.pop("authors", None), fields.get("affiliations"))
    return Paper(
        id=pid,
        title=title_s,
        abstract=abstract_s,
        version=version,  # type: ignore[arg-type]
        authors=authors,
        source=source,
        **fields,  # type: ignore[arg-type]
    )
