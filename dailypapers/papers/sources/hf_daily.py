"""Import Hugging Face daily papers: the JSON list served by ``https://huggingface.co/api/daily_papers``.

Each item looks like ``{"paper": {"id": "2106.09685", "title": ..., "summary": ..., "authors": [{"name": ...,
"hidden": false}], "publishedAt": "2024-05-01T17:59:59.000Z", "upvotes": 12, "submittedOnDailyAt":
"2024-05-02T00:31:40.000Z", ...}, "title": ..., "numComments": 3, ...}``. ``paper.id`` is an arXiv id, or the
``dp-`` title id of a paper that has none (dailypapers' own ``/api/daily_papers`` sends those; it must match the
title); ``published`` is ``publishedAt``; ``upvotes`` is ``paper.upvotes``. ``paper.githubRepo`` and
``paper.projectPage``, when present, become the code and project links.

``added_at`` (the daily-list day) is the UTC date of ``paper.submittedOnDailyAt``, where huggingface.co and
dailypapers put it, else of an item-level ``submittedOnDailyAt`` (older dumps). That day is the paper's own list
day, so it wins over the ``added_at`` a caller passes to :func:`~dailypapers.papers.sources.base.ingest` (which
only fills in papers that have none): re-importing a list, ours or the Hub's, puts every paper on its original day,
not on the import day.

The list is read from a local file or fetched from an http(s) URL. A top-level value that is not a list, an
unreadable file or a failed download raises :class:`SourceError`; a malformed item is yielded as
:class:`Rejected` (``item N``, counting from 1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from dailypapers.papers.models import InvalidRecord, Paper, make_paper, normalize_space
from dailypapers.papers.sources.base import Record, Rejected, SourceError
from dailypapers.papers.sources.jsonl import optional_str, parse_iso_datetime

USER_AGENT = "dailypapers (self-hosted paper digest)"


def _load(path_or_url: str, timeout: float, client: httpx.Client | None) -> Any:
    """The decoded JSON document at a path or http(s) URL."""
    if path_or_url.startswith(("http://", "https://")):
        own = client is None
        http = client or httpx.Client(follow_redirects=True, headers={"User-Agent": USER_AGENT})
        try:
            resp = http.get(path_or_url, timeout=timeout)
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot fetch {path_or_url}: {type(exc).__name__}: {exc}") from exc
        finally:
            if own:
                http.close()
        if resp.status_code != 200:
            raise SourceError(f"cannot fetch {path_or_url}: HTTP {resp.status_code}")
        data, where = resp.content, path_or_url
    else:
        try:
            data = Path(path_or_url).read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot open {path_or_url}: {exc.strerror or exc}") from exc
        where = path_or_url
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # also numbers over Python's 4300-digit limit, and deep nesting
        raise SourceError(f"{where} is not valid JSON: {exc}") from None


def _authors(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRecord("paper.authors must be a list")
    names = []
    for author in value:
        name = author.get("name") if isinstance(author, dict) else author
        if not isinstance(name, str):
            raise InvalidRecord("paper.authors entries must have a name")
        if normalize_space(name):
            names.append(name)
    return names


def paper_from_item(item: Any) -> Paper:
    """Build a paper from one daily-papers item; raises :class:`InvalidRecord` when it is malformed."""
    if not isinstance(item, dict):
        raise InvalidRecord(f"expected an object, got {type(item).__name__}")
    paper = item.get("paper")
    if not isinstance(paper, dict):
        raise InvalidRecord("missing paper object")
    arxiv_id = paper.get("id")
    if not isinstance(arxiv_id, str) or not arxiv_id.strip():
        raise InvalidRecord("missing paper.id")
    upvotes = paper.get("upvotes", 0)
    if upvotes is None:
        upvotes = 0
    if isinstance(upvotes, bool) or not isinstance(upvotes, int) or upvotes < 0:
        raise InvalidRecord(f"paper.upvotes must be a non-negative integer, got {upvotes!r}")  # range: make_paper
    title = paper.get("title") or item.get("title")
    abstract = paper.get("summary")
    if not isinstance(title, str | None) or not isinstance(abstract, str | None):
        raise InvalidRecord("paper.title and paper.summary must be strings")
    if paper.get("submittedOnDailyAt") is not None:
        submitted = parse_iso_datetime(paper["submittedOnDailyAt"], "paper.submittedOnDailyAt")
    else:
        submitted = parse_iso_datetime(item.get("submittedOnDailyAt"), "submittedOnDailyAt")
    extra: dict[str, Any] = {}
    for key, field in (("githubRepo", "code_url"), ("projectPage", "project_url")):
        value = optional_str(paper, key)
        if value and value.startswith(("http://", "https://")):
            extra[field] = value
    return make_paper(
        title=title,
        abstract=abstract,
        arxiv_id=arxiv_id.strip(),
        source="hf",
        authors=_authors(paper.get("authors")),
        published=parse_iso_datetime(paper.get("publishedAt"), "paper.publishedAt"),
        added_at=submitted.date() if submitted else None,
        upvotes=upvotes,
        **extra,
    )


def read_hf_daily(
    path_or_url: str | Path, *, timeout: float = 60.0, client: httpx.Client | None = None
) -> Iterator[Record]:
    """Yield the papers of a Hugging Face daily-papers JSON list (local file or http(s) URL)."""
    document = _load(str(path_or_url), timeout, client)
    if not isinstance(document, list):
        raise SourceError(f"{path_or_url}: expected a JSON list of daily papers, got {type(document).__name__}")
    for number, item in enumerate(document, 1):
        try:
            record: Record = paper_from_item(item)
        except InvalidRecord as exc:
            record = Rejected(f"item {number}", str(exc))
        yield record
