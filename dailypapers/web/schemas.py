"""Response models of the native JSON API: they document ``/openapi.json`` and check what the views return.

The dicts themselves are built by :mod:`dailypapers.serialize`; these models describe the same shapes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PaperOut(BaseModel):
    id: str = Field(description="arXiv id without version (`2106.09685`, `hep-th/9901001`), else `dp-` + 12 hex.")
    title: str
    abstract: str
    version: int | None = Field(description="arXiv version number, when known.")
    authors: list[str]
    affiliations: list[str | None] = Field(description="Affiliation of each author, in order, when known.")
    categories: list[str]
    primary_category: str | None
    published: str | None = Field(description="First publication, ISO 8601 UTC (`2021-06-17T17:37:18Z`).")
    updated: str | None = Field(description="Latest version, ISO 8601 UTC.")
    added_at: str | None = Field(description="Day the paper entered the daily list (YYYY-MM-DD).")
    display_date: str | None = Field(description="Publication day, else the day added (what date filters use).")
    comment: str | None
    journal_ref: str | None
    doi: str | None
    abs_url: str | None
    pdf_url: str | None
    code_url: str | None
    project_url: str | None
    upvotes: int
    source: str = Field(description="Where the record came from (jsonl, kaggle, arxiv, hf).")
    url: str = Field(description="Path of the paper's page on this site.")
    comments: int | None = Field(
        default=None, description="Visible comments on the paper: counted on lists and search pages, else null."
    )


class SearchResultOut(PaperOut):
    score: float = Field(description="Fused score; higher is better.")
    pinned: bool = Field(description="True when the query named this paper exactly (id or title).")
    keyword_rank: int | None = Field(description="Rank in the keyword (BM25) ranking, from 1.")
    vector_rank: int | None = Field(description="Rank in the embedding ranking, from 1.")
    title_html: str = Field(description="Title, HTML-escaped, with matched words in `<mark>`.")
    abstract_html: str = Field(description="Abstract, HTML-escaped, with matched words in `<mark>`.")


class FiltersOut(BaseModel):
    since: str | None
    until: str | None
    category: str | None
    author: str | None
    added_since: str | None = Field(None, description="Only papers added here on or after this day.")
    added_until: str | None = Field(None, description="Only papers added here on or before this day.")


class NotInLibraryOut(BaseModel):
    id: str = Field(description="The arXiv id the query names, without its version.")
    submit_url: str = Field(description="The form where a signed-in user brings the paper here, filled in.")


class SearchOut(BaseModel):
    query: str = Field(description="The query, whitespace collapsed.")
    mode: str
    filters: FiltersOut
    page: int
    page_size: int
    total: int = Field(description="Number of ranked candidates (not an exact count of all matches).")
    has_next: bool
    not_in_library: NotInLibraryOut | None = Field(
        None,
        description="Set when the query is an arXiv id (or arXiv link) of a paper that is not stored here: `results` "
        "are then related papers, none of them the paper asked for. Null otherwise.",
    )
    results: list[SearchResultOut]


class PeriodOut(BaseModel):
    kind: str = Field(description="`day`, `week` or `month`.")
    key: str = Field(description="`YYYY-MM-DD`, `YYYY-Www` or `YYYY-MM`.")
    label: str
    start: str
    end: str
    prev: str | None = Field(description="Key of the previous period (for days: the nearest day with papers).")
    next: str | None = Field(description="Key of the next period (for days: the nearest day with papers).")
    total: int
    page: int
    page_size: int
    has_next: bool
    sort: str
    papers: list[PaperOut]


class SimilarPaperOut(PaperOut):
    score: float = Field(description="Cosine similarity of the embeddings.")


class SimilarOut(BaseModel):
    paper: PaperOut
    similar: list[SimilarPaperOut]


class ErrorOut(BaseModel):
    ok: bool = False
    error: str = Field(description="What went wrong, as a sentence.")
    status: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A parameter is not valid; `error` says which and why."},
    404: {"model": ErrorOut, "description": "No such paper or page."},
    "4XX": {"model": ErrorOut, "description": "Any other client error, in the same shape."},
}
"""The error responses of every native route. Declaring ``4XX`` also keeps FastAPI from documenting its default
``422`` (which the app never sends: validation errors are 400s)."""
