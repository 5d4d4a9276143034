"""Saved searches and their alerts: a signed-in user keeps a query with its filters, and the papers *added* since a
day that match it become alerts (on ``/alerts``, in the digest). SQLAlchemy Core over ``saved_searches``, one set of
queries for both backends; matching goes through the search service, so both backends match alike.

The rules, for every caller (pages, JSON API, digest):

* A saved search is its owner's alone: anybody else's id, like an unknown one, is :class:`NotFound`.
* At most :data:`MAX_SAVED` per account (the owner's row is locked while counting, so concurrent saves keep it).
  A name is 1 to :data:`MAX_NAME` characters without control characters (default: the query, cut at a word); a
  query at most the configured ``max_query_length``. Saving the same query and filters again returns the one
  already saved (renamed when a name is given), so a double-clicked form saves once.
* A paper *matches* a saved search when it was added on or after the day asked for, passes the saved filters, and
  either has every word of the query (title, abstract or authors; forms of a word alike, stopwords aside: what an
  AND search would find) or its embedding's cosine similarity to the query's is at least :data:`MIN_SIMILARITY`
  (:func:`min_similarity`: each embedding model has its own).
  Neither ranking alone will do: keyword search ORs the words (every paper with "neural" is a hit for "graph neural
  networks") and its vector half returns the nearest papers however far they are, so every new paper would
  "match" everything. A pasted abstract (a long query) matches by similarity only: its words are in every paper.
* A paper that matches several saved searches is one alert that names them all (best match first).

Candidates are gathered and fused by :mod:`dailypapers.search.fusion`, as a search's are; hidden papers are never
among them (the store's rule).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import snowballstemmer
from sqlalchemy import Connection, delete, func, select, update

from dailypapers.db.engine import Database
from dailypapers.db.ids import sortable_id
from dailypapers.db.schema import saved_searches, users
from dailypapers.errors import BadInput, Conflict, NotFound
from dailypapers.papers.models import Filters, Paper, checked_text
from dailypapers.papers.store.terms import is_long, query_terms, words
from dailypapers.papers.text import name_text
from dailypapers.search.fusion import fuse, gather, papers_of
from dailypapers.search.service import Search
from dailypapers.search.vectors.static import STATIC_MODEL_NAME

MAX_SAVED = 50  # per account
MAX_NAME = 100
MAX_CATEGORY, MAX_AUTHOR = 100, 200  # as the search form and API take them
MAX_ID = 64  # longer than any sortable_id: unknown without asking the database
MIN_SIMILARITY = 0.5
"""Least cosine similarity (MiniLM-L6 embeddings) of a paper to a saved query for a match by meaning alone. Read off
the demo corpus (298 papers; the table in docs/search.md, "Saved searches and alerts"): over the 12 nearest papers
of 15 queries, no unrelated paper reached 0.48 (0.47: a Mixup paper for "mixture of experts"; 0.43 for "speculative
decoding", which no paper is about), the nearest on-topic papers scored 0.50-0.71, and those on the topic below 0.5
have the query's words and match by those. 0.5 keeps the margin on the side of no false alert."""
STATIC_MIN_SIMILARITY = 0.62
"""The same for the static tier (``DAILYPAPERS_EMBED_MODEL=static``), whose cosines run higher: read off the same 15
queries, unrelated papers reached 0.60 ("reinforcement learning from human feedback": 0.57-0.60 for papers on
curricula and forgetting), the nearest on-topic ones 0.62-0.72 (diffusion, quantization). A model not listed here
gets the higher of the two."""
_MIN_SIMILARITY = {"all-MiniLM-L6-v2": MIN_SIMILARITY, STATIC_MODEL_NAME: STATIC_MIN_SIMILARITY}


def min_similarity(model: str) -> float:
    """The least cosine similarity for a match by meaning with embedding model ``model``."""
    return _MIN_SIMILARITY.get(model, max(_MIN_SIMILARITY.values()))


_FILTER_KEYS = tuple(f.name for f in fields(Filters))
Alerts = list["AlertMatch"]  # module-level names: inside the class, ``list`` is the method
PerSearch = list[tuple["SavedSearch", dict[int, "_Hit"]]]
Grouped = list[tuple["SavedSearch", Alerts]]
Keys = list[int]
_DATE_KEYS = ("since", "until", "added_since", "added_until")


@dataclass(frozen=True)
class SavedSearch:
    """A saved query and its filters (``filters.added_since``/``added_until`` narrow its alerts further)."""

    id: str
    user_id: str
    name: str
    query: str
    filters: Filters
    created_at: datetime


@dataclass(frozen=True)
class AlertMatch:
    """A new paper for a saved search: ``saved`` is the search it matches best, ``searches`` all it matches (best
    first); ``score`` ranks alerts (reciprocal-rank fusion of the kept keyword and vector ranks, summed over the
    searches), ``similarity`` is the query-paper cosine when the vector search found it, ``keyword`` whether the
    keyword search did."""

    saved: SavedSearch
    paper: Paper
    score: float
    searches: tuple[SavedSearch, ...] = ()
    similarity: float | None = None
    keyword: bool = False

    @property
    def reason(self) -> str:
        """Why the paper is shown: "matches your saved search 'NAME'" (every search it matches, when several)."""
        names = [f"'{s.name}'" for s in (self.searches or (self.saved,))]
        if len(names) == 1:
            return f"matches your saved search {names[0]}"
        return f"matches your saved searches {', '.join(names[:-1])} and {names[-1]}"


@dataclass
class _Hit:
    score: float = 0.0
    keyword: bool = False
    similarity: float | None = None
    searches: list[tuple[float, SavedSearch]] = field(default_factory=list)


def default_name(query: str) -> str:
    """The query as a name: cut at the last whole word within :data:`MAX_NAME` characters, with an ellipsis."""
    if len(query) <= MAX_NAME:
        return query
    cut = query[: MAX_NAME - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def check_filters(filters: Filters) -> Filters:
    """``filters`` with text trimmed (empty: none), or :class:`BadInput` for a wrong type, length or date order."""
    if not isinstance(filters, Filters):
        raise BadInput("The filters of a saved search are malformed.")
    for key in _DATE_KEYS:
        if getattr(filters, key) is not None and not isinstance(getattr(filters, key), date):
            raise BadInput(f"'{key}' must be a date (YYYY-MM-DD).")
    category = checked_text(filters.category or "", "A category", MAX_CATEGORY) or None
    author = checked_text(filters.author or "", "An author", MAX_AUTHOR) or None
    for low, high in (("since", "until"), ("added_since", "added_until")):
        a, b = getattr(filters, low), getattr(filters, high)
        if a and b and a > b:
            raise BadInput(f"'{low}' must not be later than '{high}'.")
    return dataclasses.replace(filters, category=category, author=author)


def filters_to_json(filters: Filters) -> str:
    values = {k: getattr(filters, k) for k in _FILTER_KEYS if getattr(filters, k) is not None}
    return json.dumps({k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}, sort_keys=True)


def filters_from_json(text: str) -> Filters:
    """The stored filters (keys this version does not know are ignored, so an older row always loads)."""
    raw = json.loads(text or "{}")
    values: dict[str, Any] = {k: raw[k] for k in _FILTER_KEYS if isinstance(raw, dict) and raw.get(k)}
    for key in _DATE_KEYS:
        if key in values:
            values[key] = date.fromisoformat(values[key])
    return Filters(**values)


_local = threading.local()  # a Snowball stemmer keeps state: one per thread


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (english) stem of a lower-case word: the stemming both keyword indexes apply ("networks" and
    "network" alike). Cached: the pure-Python stemmer takes ~0.1 ms a word, and abstracts repeat their words."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def has_every_word(query: str, paper: Paper) -> bool:
    """Whether the title, abstract or authors of ``paper`` hold every word of ``query`` (a short query), by stem.
    Only the paper's words that begin with the letter of a query word's stem are stemmed (a Snowball stem keeps its
    word's first letter: true of all 6,055 words of the demo corpus; the first two letters are not: "lying")."""
    wanted = {stem(w) for w in query_terms(query)}
    if not wanted:
        return False
    starts = {w[:1] for w in wanted}
    text = " ".join([paper.title, paper.abstract, *paper.authors])
    have = {stem(w) for w in set(words(text)) if w[:1] in starts}
    return wanted <= have


def _saved(row: Any) -> SavedSearch:
    m = row._mapping
    return SavedSearch(m["id"], m["user_id"], m["name"], m["query"], filters_from_json(m["filters"]), m["created_at"])


def _not_found(saved_id: object) -> NotFound:
    return NotFound(f"You have no saved search '{str(saved_id)[:MAX_ID]}'.")


class SavedSearches:
    """The saved searches of the configured database, matched with ``search``."""

    def __init__(self, db: Database, search: Search) -> None:
        self.db = db
        self.search = search

    # -- saving -------------------------------------------------------------------------------------------------
    def save(self, user_id: str, *, name: str, query: str, filters: Filters) -> SavedSearch:
        """Save ``query`` with ``filters`` for ``user_id`` (the same search again: the one saved, renamed when
        ``name`` is given); :class:`Conflict` past :data:`MAX_SAVED`."""
        text = checked_text(query, "A saved query", self.search.max_query_length)
        if not text:
            raise BadInput("A saved search needs a query.")
        named = name_text(name) if isinstance(name, str) else name  # no bidi/invisible text into digests (#16)
        label = checked_text(named or "", "A saved search's name", MAX_NAME) or default_name(text)
        stored_filters = filters_to_json(check_filters(filters))
        with self.db.write() as conn:
            owner = select(users.c.id).where(users.c.id == user_id).with_for_update()
            if conn.execute(owner).scalar_one_or_none() is None:
                raise NotFound("There is no such account.")
            same = select(saved_searches.c.id).where(
                saved_searches.c.user_id == user_id,
                saved_searches.c.query == text,
                saved_searches.c.filters == stored_filters,
            )
            if (existing := conn.execute(same).scalar()) is not None:
                if name and name.strip():
                    conn.execute(update(saved_searches).where(saved_searches.c.id == existing).values(name=label))
                return self._get(conn, user_id, existing)
            held = select(func.count()).select_from(saved_searches).where(saved_searches.c.user_id == user_id)
            if conn.execute(held).scalar_one() >= MAX_SAVED:
                raise Conflict(f"You have {MAX_SAVED} saved searches, the most one account can have; delete one first.")
            sid = sortable_id()
            row = dict(id=sid, user_id=user_id, name=label, query=text, filters=stored_filters)
            conn.execute(saved_searches.insert().values(**row, created_at=datetime.now(UTC)))
            return self._get(conn, user_id, sid)

    def list(self, user_id: str) -> list[SavedSearch]:
        """``user_id``'s saved searches, oldest first."""
        query = select(saved_searches).where(saved_searches.c.user_id == user_id).order_by(saved_searches.c.id)
        with self.db.read() as conn:
            return [_saved(r) for r in conn.execute(query)]

    def get(self, user_id: str, saved_id: str) -> SavedSearch:
        """The owner's saved search; :class:`NotFound` for anybody else's or an unknown id."""
        with self.db.read() as conn:
            return self._get(conn, user_id, saved_id)

    def delete(self, user_id: str, saved_id: str) -> None:
        """Delete the owner's saved search (:class:`NotFound` as :meth:`get`)."""
        with self.db.write() as conn:
            self._get(conn, user_id, saved_id)
            conn.execute(delete(saved_searches).where(saved_searches.c.id == saved_id))

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(saved_searches)).scalar_one())

    @staticmethod
    def _get(conn: Connection, user_id: str, saved_id: object) -> SavedSearch:
        if not isinstance(saved_id, str) or not 0 < len(saved_id) <= MAX_ID:
            raise _not_found(saved_id)
        query = select(saved_searches).where(saved_searches.c.id == saved_id, saved_searches.c.user_id == user_id)
        row = conn.execute(query).first()
        if row is None:
            raise _not_found(saved_id)
        return _saved(row)

    # -- alerts -------------------------------------------------------------------------------------------------
    def matches(self, user_id: str, *, since: date, limit: int = 10) -> Alerts:
        """The papers added on or after ``since`` that match any of ``user_id``'s saved searches, each once (naming
        every search it matches), best first: at most ``limit``."""
        found = self._hits(self.list(user_id), since)
        merged: dict[int, _Hit] = {}
        for saved, hits in found:
            for pk, hit in hits.items():
                into = merged.setdefault(pk, _Hit())
                into.score += hit.score  # a paper several searches find ranks above one that only one finds
                into.keyword = into.keyword or hit.keyword
                if hit.similarity is not None:
                    into.similarity = max(into.similarity or -1.0, hit.similarity)
                into.searches.append((hit.score, saved))
        return self._alerts(merged, limit)

    def alerts(self, user_id: str, *, since: date, limit: int = 10) -> Grouped:
        """Each of ``user_id``'s saved searches (oldest first) with its own new matches (at most ``limit`` each):
        what ``/alerts`` shows. Here a paper is listed under every search it matches."""
        result: Grouped = []
        for saved, hits in self._hits(self.list(user_id), since):
            for hit in hits.values():
                hit.searches = [(hit.score, saved)]
            result.append((saved, self._alerts(hits, limit)))
        return result

    def _alerts(self, hits: Mapping[int, _Hit], limit: int) -> Alerts:
        ranked = sorted(hits.items(), key=lambda kv: (-kv[1].score, kv[0]))[: max(0, limit)]
        papers = papers_of(self.search.store, [pk for pk, _ in ranked])
        alerts: Alerts = []
        for pk, hit in ranked:
            if (paper := papers.get(pk)) is None:
                continue
            order = tuple(s for _, s in sorted(hit.searches, key=lambda t: (-t[0], t[1].id)))
            alerts.append(AlertMatch(order[0], paper, hit.score, order, hit.similarity, hit.keyword))
        return alerts

    def _hits(self, searches: Sequence[SavedSearch], since: date) -> PerSearch:
        """Per saved search, the keys of its matches added on or after ``since`` (never a hidden paper)."""
        store = self.search.store
        if not searches or store.latest_added_day() is None:
            return [(s, {}) for s in searches]
        embedder = self.search.embedder
        queries = embedder.embed([s.query for s in searches])  # one batch: one model call for all
        threshold = min_similarity(embedder.name)
        depth = self.search.candidates
        result: PerSearch = []
        for saved, vector in zip(searches, queries, strict=True):
            start = max(since, saved.filters.added_since or since)
            filters = dataclasses.replace(saved.filters, added_since=start)
            long_text = is_long(saved.query)
            found = gather(
                store, saved.query, filters, keyword_depth=0 if long_text else depth,
                vectors=self.search.vectors, query_vector=vector, vector_depth=depth,
            )  # fmt: skip
            keyword = self._every_word(saved.query, [h.pk for h in found.keyword])
            near = [h for h in found.vector if h.score >= threshold]
            fused = fuse([keyword, [h.pk for h in near]], k=self.search.rrf_k, long_text=long_text)
            cosine = {h.pk: h.score for h in near}
            kw = set(keyword)
            result.append((saved, {pk: _Hit(s, pk in kw, cosine.get(pk)) for pk, s in fused}))
        return result

    def _every_word(self, query: str, hits: Keys) -> Keys:
        """Those keyword hits (best first) that hold every word of ``query`` (none for a long text: no keyword half
        is asked for one)."""
        papers = papers_of(self.search.store, hits)
        return [pk for pk in hits if (p := papers.get(pk)) is not None and has_every_word(query, p)]
