"""Papers in the shapes Hugging Face's papers API uses, so that ``huggingface_hub`` can read them.

The shapes follow what ``huggingface_hub`` (2.4.0) parses in ``PaperInfo``, ``PaperAuthor`` and ``User``, not
only what huggingface.co happens to send:

* A **daily item** (``/api/daily_papers``, ``/api/papers/search``) wraps the paper: ``{"paper": {...}, ...}``. The
  client takes ``published_at`` from ``paper.publishedAt`` (the arXiv date) and ``submitted_at`` from the
  top-level ``publishedAt`` (the day the paper entered the daily list), and reads ``title``, ``projectPage``,
  ``githubRepo``, ``githubStars``, ``ai_keywords`` and ``organization`` only from the top level.
* A **flat paper** (``/api/papers/{id}``) has everything at the top level: ``publishedAt`` is the arXiv date and
  ``submittedOnDailyAt`` the day it entered the list. It also carries dailypapers' own fields (``categories``,
  ``absUrl``, ``pdfUrl``, ``doi``, ``addedAt``, ...), which the client keeps as extra attributes.
* Dates are ``YYYY-MM-DDTHH:MM:SS.fffZ`` with a literal ``Z``: the client's parser rejects ``+00:00``.

A paper a user brought to the list (``/submit``) is submitted by that user (:func:`submitter`: the username, also as
the full name, which accounts do not have); every other paper came from an importer and is "submitted" by
:data:`IMPORTER`, a documented system user (so is a paper whose submitter deleted their account). ``discussionId``
is the paper's id and ``numComments`` the number of its comments everybody sees on dailypapers (neither deleted nor
hidden).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from dailypapers.papers.models import Paper

HF_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
HfDate = Annotated[
    str,
    Field(pattern=HF_DATE_PATTERN, examples=["2021-06-17T17:37:18.000Z"], description="UTC, with a literal Z."),
]
IMPORTER_USERNAME = "dailypapers"
IMPORTER_AVATAR = "/static/importer.svg"
USER_AVATAR = "/static/user.svg"  # accounts have no pictures: one for every user


class HfUser(BaseModel):
    """A user as the Hub describes one; ``user`` is the username."""

    user: str
    fullname: str
    avatarUrl: str
    type: Literal["user"] = "user"
    isPro: bool = False


class HfOrganization(BaseModel):
    """An organization a paper belongs to (dailypapers does not know any yet: always null)."""

    name: str
    fullname: str
    avatarUrl: str


class HfAuthor(BaseModel):
    """A paper author. dailypapers does not link authors to users, so ``user`` is never set."""

    name: str
    hidden: bool = False


class HfPaperCore(BaseModel):
    """The ``paper`` object inside a daily item."""

    id: str = Field(description="arXiv id without version, or dailypapers' own `dp-` id.")
    authors: list[HfAuthor]
    publishedAt: HfDate = Field(description="arXiv publication time; the day it was added when unknown.")
    title: str
    summary: str = Field(description="The abstract.")
    upvotes: int = Field(ge=0)
    discussionId: str
    submittedOnDailyAt: HfDate = Field(description="Midnight UTC of the day the paper entered the daily list.")
    submittedOnDailyBy: HfUser
    projectPage: str | None = None
    githubRepo: str | None = None


class HfDailyItem(BaseModel):
    """One entry of ``/api/daily_papers`` and ``/api/papers/search``."""

    paper: HfPaperCore
    publishedAt: HfDate = Field(description="Midnight UTC of the day the paper entered the daily list.")
    title: str
    summary: str
    numComments: int = Field(ge=0)
    submittedBy: HfUser
    upvotes: int = Field(ge=0)
    isAuthorParticipating: bool = False
    projectPage: str | None = None
    githubRepo: str | None = None
    githubStars: int | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    organization: HfOrganization | None = None


class HfPaper(HfPaperCore):
    """The flat paper object of ``/api/papers/{id}``: the Hub's fields plus dailypapers' own."""

    numComments: int = Field(ge=0)
    githubStars: int | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] | None = None
    organization: HfOrganization | None = None
    source: str = Field(description="The dailypapers importer the paper came from (jsonl, arxiv, hf, kaggle).")
    version: int | None = None
    categories: list[str]
    primaryCategory: str | None = None
    updatedAt: HfDate | None = None
    addedAt: date | None = Field(description="The day the paper entered the daily list (YYYY-MM-DD).")
    absUrl: str | None = None
    pdfUrl: str | None = None
    doi: str | None = None
    comment: str | None = None
    journalRef: str | None = None
    affiliations: list[str | None]


IMPORTER = HfUser(user=IMPORTER_USERNAME, fullname="dailypapers importer", avatarUrl=IMPORTER_AVATAR)
"""Who "submitted" every paper no user submitted: dailypapers' importers (arXiv, Hugging Face, Kaggle, JSONL)."""


def submitter(username: str | None) -> HfUser:
    """The user who submitted a paper (``username``), or :data:`IMPORTER` for ``None`` (no user did)."""
    return IMPORTER if username is None else HfUser(user=username, fullname=username, avatarUrl=USER_AVATAR)


def hf_datetime(value: datetime) -> str:
    """``value`` as ``YYYY-MM-DDTHH:MM:SS.fffZ`` in UTC (naive values are taken to be UTC).

    Formatted field by field: ``strftime("%Y")`` does not zero-pad years before 1000 on every platform (glibc
    writes ``999``), and the pattern, like the client, wants four digits."""
    dt = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        f".{dt.microsecond // 1000:03d}Z"
    )


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def submitted_at(paper: Paper) -> str:
    """When the paper entered the daily list (midnight UTC of ``added_at``; else its publication time)."""
    if paper.added_at is not None:
        return hf_datetime(day_start(paper.added_at))
    return hf_datetime(paper.published or datetime(1970, 1, 1, tzinfo=UTC))


def published_at(paper: Paper) -> str:
    """The arXiv publication time; for papers without one, the day they entered the list."""
    return hf_datetime(paper.published) if paper.published else submitted_at(paper)


def paper_core(paper: Paper, by: HfUser = IMPORTER) -> HfPaperCore:
    """The ``paper`` object of a daily item (``by``: who submitted it)."""
    return HfPaperCore(
        id=paper.id,
        authors=[HfAuthor(name=name) for name in paper.authors],
        publishedAt=published_at(paper),
        title=paper.title,
        summary=paper.abstract,
        upvotes=max(paper.upvotes, 0),
        discussionId=paper.id,
        submittedOnDailyAt=submitted_at(paper),
        submittedOnDailyBy=by,
        projectPage=paper.project_url,
        githubRepo=paper.code_url,
    )


def daily_item(paper: Paper, comments: int = 0, by: HfUser = IMPORTER) -> HfDailyItem:
    """``paper`` as one entry of the daily list or of search results (``comments``: its comment count; ``by``:
    who submitted it)."""
    return HfDailyItem(
        paper=paper_core(paper, by),
        publishedAt=submitted_at(paper),
        title=paper.title,
        summary=paper.abstract,
        numComments=max(comments, 0),
        submittedBy=by,
        upvotes=max(paper.upvotes, 0),
        projectPage=paper.project_url,
        githubRepo=paper.code_url,
    )


def flat_paper(paper: Paper, comments: int = 0, by: HfUser = IMPORTER) -> HfPaper:
    """``paper`` as the flat object of ``/api/papers/{id}`` (``comments``: its comment count; ``by``: who
    submitted it)."""
    return HfPaper(
        **paper_core(paper, by).model_dump(),
        numComments=max(comments, 0),
        source=paper.source,
        version=paper.version,
        categories=list(paper.categories),
        primaryCategory=paper.primary_category,
        updatedAt=hf_datetime(paper.updated) if paper.updated else None,
        addedAt=paper.added_at,
        absUrl=paper.abs_url,
        pdfUrl=paper.pdf_url,
        doi=paper.doi,
        comment=paper.comment,
        journalRef=paper.journal_ref,
        affiliations=list(paper.affiliations),
    )


def _md_escape(text: str) -> str:
    """Text safe to put in a Markdown line: characters that would start markup are backslash-escaped."""
    return "".join("\\" + c if c in "\\`*_[]<>#|" else c for c in text)


_LINKABLE = re.compile(r"(?:https?://|/(?!/))[^\s<>]*", re.IGNORECASE)  # http(s), or a path on this site


def _md_link(url: str) -> str:
    """An autolink for an absolute http(s) URL, a plain link for a relative one (autolinks must be absolute)."""
    return f"<{url}>" if "://" in url else f"[{_md_escape(url)}]({url})"


def paper_markdown(paper: Paper, page_url: str | None = None) -> str:
    """``paper`` as a Markdown document: title, authors, dates, categories, links and abstract.

    ``page_url`` is the paper's dailypapers page, absolute or relative (``/papers/2106.09685``).

    The abstract is kept as written (it may hold LaTeX); the full text of the paper is not included.
    """
    lines = [f"# {_md_escape(paper.title)}", ""]
    if paper.authors:
        lines += [f"**Authors:** {_md_escape(', '.join(paper.authors))}", ""]
    facts = []
    if paper.is_arxiv:
        facts.append(f"- **arXiv:** {paper.id}" + (f"v{paper.version}" if paper.version else ""))
    if paper.published:
        facts.append(f"- **Published:** {paper.published.date().isoformat()}")
    if paper.added_at:
        facts.append(f"- **Added to the daily list:** {paper.added_at.isoformat()}")
    if paper.categories:
        facts.append(f"- **Categories:** {', '.join(paper.categories)}")
    facts.append(f"- **Upvotes:** {max(paper.upvotes, 0)}")
    for label, value in (("Journal reference", paper.journal_ref), ("Comment", paper.comment), ("DOI", paper.doi)):
        if value:
            facts.append(f"- **{label}:** {_md_escape(value)}")
    lines += [*facts, ""]
    links = [
        (label, url)
        for label, url in (
            ("Abstract", paper.abs_url),
            ("PDF", paper.pdf_url),
            ("Code", paper.code_url),
            ("Project page", paper.project_url),
            ("dailypapers", page_url),
        )
        if url and _LINKABLE.fullmatch(url)  # imported URLs: never a javascript: link or one that breaks out
    ]
    if links:  # an autolink needs an absolute URL; a relative one (no public URL known) is a plain link
        lines += ["## Links", "", *(f"- {label}: {_md_link(url)}" for label, url in links), ""]
    lines += ["## Abstract", "", paper.abstract, ""]
    return "\n".join(lines)
