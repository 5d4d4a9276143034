"""Key phrases, key sentences and rising topics on the pages (issue 24).

* The paper page's "In one sentence" and key-phrase chips: a panel provider (:func:`key_phrase_panel`,
  ``_paper_keyphrases.html``).
* ``/keyphrases/{phrase}`` (HTML) and ``/api/keyphrases/{phrase}`` (JSON): the papers that have a key phrase, one
  view; every chip links there.
* ``/api/topics/rising``: topics and key phrases whose share of new papers rose in the newest week, with their
  weekly shares (the pages draw them as sparklines).
* Template helpers any page's template may call (registered on the Jinja environment, so that the daily page and
  the list macros need no context from this module): ``sparkline(values, label)``, ``topic_rising(request)`` (for
  ``_rising.html``) and ``key_phrases(paper)`` (a list's chips).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from markupsafe import Markup
from pydantic import BaseModel, Field

from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.serialize import paper_json
from dailypapers.topics.rising import sparkline_svg
from dailypapers.topics.service import Topic
from dailypapers.web.deps import LibraryDep
from dailypapers.web.panels import paper_panel
from dailypapers.web.schemas import ERROR_RESPONSES, PaperOut
from dailypapers.web.templating import templates
from dailypapers.web.views import Html, Json, view

router = APIRouter(responses=ERROR_RESPONSES)
PHRASE_PAPERS = 100
PhrasePath = Annotated[str, Path(max_length=200, description="A key phrase (lower case, as the chips show it).")]


@paper_panel(order=5)
def key_phrase_panel(request: Request, library: Library, paper: Paper) -> dict[str, Any]:
    """``key_phrases`` (list) and ``key_sentence`` (str, may be empty) of the paper page."""
    phrases, sentence = library.topics.phrases_of([paper.pk]).get(paper.pk or -1, ([], "")) if paper.pk else ([], "")
    return {"key_phrases": phrases, "key_sentence": sentence}


# -- template helpers ---------------------------------------------------------------------------------------------
def sparkline(values: list[float], label: str = "") -> Markup:
    """An inline SVG sparkline (numbers only; ``label`` is escaped here)."""
    return Markup(sparkline_svg([float(v) for v in values], label=str(Markup.escape(label))))


_rising_cache: dict[int, tuple[float, tuple[Any, ...], list[Topic]]] = {}
RISING_CACHE_S = 60.0  # the daily page asks on every view; the answer changes when the map job runs


def topic_rising(request: Request, limit: int = 5) -> list[Topic]:
    """The rising topics of the newest week (for ``_rising.html`` on pages that do not pass ``rising``), kept a
    minute per library."""
    library: Library = request.app.state.library
    newest = library.papers.latest_day()
    key = (newest, limit, library.topics.generation())
    hit = _rising_cache.get(id(library))
    if hit is not None and hit[1] == key and time.monotonic() - hit[0] < RISING_CACHE_S:
        return hit[2]
    found = library.topics.rising_topics(newest, limit=limit)
    _rising_cache[id(library)] = (time.monotonic(), key, found)
    return found


def _key_phrases_helper(request: Request, paper: Paper) -> list[str]:
    """A list card's chips: the paper's first three key phrases (one indexed query per card)."""
    if paper.pk is None:
        return []
    library: Library = request.app.state.library
    return library.topics.phrases_of([paper.pk]).get(paper.pk, ([], ""))[0][:3]


templates.env.globals.update(sparkline=sparkline, topic_rising=topic_rising, key_phrases=_key_phrases_helper)


# -- papers with a key phrase -------------------------------------------------------------------------------------
class PhraseOut(BaseModel):
    phrase: str
    papers: list[PaperOut] = Field(description=f"Newest first, at most {PHRASE_PAPERS}.")


@dataclass
class PhraseView:
    phrase: str
    papers: list[Paper]


def _phrase_json(request: Request, found: PhraseView) -> dict[str, Any]:
    library: Library = request.app.state.library
    comments = library.comments.counts([p.pk for p in found.papers if p.pk is not None])
    return {"phrase": found.phrase, "papers": [paper_json(p, comments) for p in found.papers]}


def _phrase_context(request: Request, found: PhraseView) -> dict[str, Any]:
    return {"view": found, "json_url": "/api/keyphrases/" + found.phrase}


@view(
    router,
    Html("/keyphrases/{phrase}", "keyphrase.html", _phrase_context, summary="Papers with a key phrase (HTML)"),
    Json("/api/keyphrases/{phrase}", PhraseOut, _phrase_json, summary="Papers with a key phrase"),
)
def papers_with_phrase(library: LibraryDep, phrase: PhrasePath) -> PhraseView:
    """The papers that have ``phrase`` among their key phrases, newest first."""
    clean = " ".join(phrase.lower().split())
    return PhraseView(clean, library.papers.by_pks(library.topics.with_phrase(clean, PHRASE_PAPERS)))


# -- rising -------------------------------------------------------------------------------------------------------
class RisingOut(BaseModel):
    kind: str = Field(description="`topic` or `keyphrase`.")
    name: str = Field(description="The topic's label terms, or the key phrase.")
    topic: int | None = Field(description="The topic's id on /api/map (null for a key phrase).")
    weeks: list[str] = Field(description="ISO weeks, oldest first.")
    counts: list[int] = Field(description="Papers per week.")
    shares: list[float] = Field(description="Share of each week's new papers.")
    rise: float = Field(description="Last week's share minus the mean share of the weeks before.")


class RisingListOut(BaseModel):
    topics: list[RisingOut]
    keyphrases: list[RisingOut]


@router.get("/api/topics/rising", response_model=RisingListOut, summary="Rising topics and key phrases", tags=["api"])
def rising_api(library: LibraryDep) -> dict[str, Any]:
    """Topics and key phrases whose share of new papers grew in the newest week with papers."""
    newest = library.papers.latest_day()

    def row(kind: str, name: str, topic: int | None, r: Any) -> dict[str, Any]:
        shares = [round(s, 4) for s in r.shares]
        return dict(kind=kind, name=name, topic=topic, weeks=r.weeks, counts=r.counts, shares=shares,
                    rise=round(r.rise, 4))  # fmt: skip

    topics = [row("topic", ", ".join(t.cluster.terms), t.cluster.id, t.rising) for t in
              library.topics.rising_topics(newest, limit=10)]  # fmt: skip
    phrases = [row("keyphrase", r.key, None, r) for r in library.topics.rising_phrases(newest, limit=10)]
    return {"topics": topics, "keyphrases": phrases}
