"""Keyword search of the SQLite backend on tantivy: exact top-k BM25 with filters inside the engine.

A query is a disjunction of term queries, one per (term, field), each boosted by its field's weight
(:data:`FIELD_BOOSTS`), so a paper scores the weighted sum of its fields' BM25. tantivy's block-max WAND skips
whatever cannot reach the top k, and it returns what scoring every match would: there is no keyword budget here
(``DAILYPAPERS_KEYWORD_BUDGET`` applies to PostgreSQL only). Filters are ``Must`` clauses on fast fields (dates),
raw terms (category) and a regular expression (author substring); hidden papers a ``MustNot`` set of keys read,
per search, from ``hidden_papers`` (the rule of :mod:`dailypapers.papers.hidden`).

A long text (a pasted abstract: more distinct terms than a short query takes) searches *every* distinctive term of
the text, each weighted by how often the text uses it (:mod:`.long_text`), in title and abstract.

**Readers.** Each process opens the index once and reloads it only when the database's record of it changes
(checked at most every :data:`RECHECK_S` seconds), never in the middle of a build: an index that is missing, being
built or not the one the database recorded is not searched, and the store's own FTS5 index answers instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import tantivy

from dailypapers.papers.models import Filters
from dailypapers.papers.store.base import Hit
from dailypapers.papers.store.terms import is_long, query_terms
from dailypapers.search.keyword.long_text import TF_WEIGHT, weighted_terms
from dailypapers.search.keyword.tantivy_index import (
    SCHEMA,
    IndexCheck,
    IndexState,
    KeywordIndexWriter,
    analyzer,
    check_index,
    day_number,
    in_step,
    index_folder,
    open_index,
    read_state,
    recorded_state,
)

if TYPE_CHECKING:
    from dailypapers.papers.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

FIELD_BOOSTS = {"title": 1.0, "abstract": 1.0, "authors": 1.0}
"""BM25 weight of each field. On the relevance set (docs/search.md, "Keyword engine on SQLite") equal weights beat
title 1.5, 2 and 5 (FTS5's 5/1/2) in keyword and hybrid mode; authors 0.5 ranked exactly as 1. Each field's BM25
already weighs a match in a short title above one in a long abstract (length normalisation)."""
LONG_TEXT_FIELDS = ("title", "abstract")
"""A pasted text is not searched in author names: the names it cites would find those authors' papers."""
RECHECK_S = 1.0
_REGEX_SPECIAL = set('\\.+*?()|[]{}^$#&-~"')


def _regex_literal(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


class TantivyKeywords:
    """The :class:`~dailypapers.search.keyword.KeywordEngine` of a SQLite store, its index under ``root``."""

    name = "tantivy"

    def __init__(
        self, store: SQLiteStore, root: Path, *, boosts: dict[str, float] | None = None, tf_rule: str = TF_WEIGHT
    ) -> None:
        self.store, self.root, self.folder = store, Path(root), index_folder(root)
        self.boosts = dict(FIELD_BOOSTS if boosts is None else boosts)
        self.tf_rule = tf_rule
        self._index: tantivy.Index | None = None
        self._usable = False
        self._recorded: IndexState | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._local = threading.local()  # a TextAnalyzer is used by one thread at a time

    # -- keeping it in step ------------------------------------------------------------------------------------
    def update(self, *, progress: bool | None = None) -> int:
        """Index what the store changed (all of it when the index is missing, stale or foreign)."""
        try:
            return KeywordIndexWriter(self.store, self.root).update(progress=progress)
        finally:
            self._checked = float("-inf")  # this process sees its own commits at once

    def rebuild(self, *, progress: bool | None = None) -> int:
        """Build the index afresh from the store; return how many papers it holds."""
        try:
            return KeywordIndexWriter(self.store, self.root).update(progress=progress, rebuild=True)
        finally:
            self._checked = float("-inf")

    def check(self) -> IndexCheck:
        """Papers the index lacks or holds in an old version, and documents of papers deleted since."""
        return check_index(self.store, self.root)

    @property
    def ready(self) -> bool:
        """Whether searches are answered by tantivy now (else by the store's FTS5 index)."""
        return self._searcher() is not None

    def _searcher(self) -> tantivy.Searcher | None:
        """A searcher of the index, reloaded if the database recorded a new generation; None when unusable."""
        now = time.monotonic()
        if now - self._checked >= RECHECK_S:
            with self._lock:
                recorded = recorded_state(self.store)
                if recorded != self._recorded or self._index is None:
                    self._usable = self._load(recorded)
                    self._recorded = recorded
                self._checked = now
        return self._index.searcher() if self._usable and self._index is not None else None

    def _load(self, recorded: IndexState | None) -> bool:
        if recorded is None or not (self.folder / "meta.json").exists():
            return False
        if self._index is None:
            self._index = open_index(self.folder)
            self._index.config_reader(reload_policy="Manual")  # reloaded here, never mid-build
        self._index.reload()
        own = read_state(self._index.searcher())
        return in_step(own, recorded) and own is not None and own.complete

    # -- searching -------------------------------------------------------------------------------------------
    def search(self, query: str, limit: int, filters: Filters = Filters()) -> list[Hit]:
        searcher = self._searcher()
        if searcher is None:
            return self.store.keyword_search(query, limit, filters)
        long_text = is_long(query)
        if long_text:
            weighted, shown = weighted_terms(
                query, lambda t: max(searcher.doc_freq(f, t) for f in LONG_TEXT_FIELDS), searcher.num_docs,
                rule=self.tf_rule,
            )  # fmt: skip
            fields = {f: self.boosts.get(f, 1.0) for f in LONG_TEXT_FIELDS}
        else:
            shown = query_terms(query)
            weighted = {tok: 1.0 for word in shown for tok in self._analyze(word)}
            fields = self.boosts
        if not weighted or limit <= 0:
            return []
        text = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, _boosted(tantivy.Query.term_query(SCHEMA, field, tok), boost * weight))
                for tok, weight in weighted.items()
                for field, boost in fields.items()
            ]
        )
        extra: dict[str, object] = {"terms": tuple(shown)}
        hits = searcher.search(self._filtered(text, filters), limit, count=False).hits
        pks = searcher.fast_field_values("pk", [addr for _, addr in hits])  # every paper document has its key
        return [Hit(pk=int(pk or 0), score=float(score), extra=extra) for (score, _), pk in zip(hits, pks, strict=True)]

    def _analyze(self, text: str) -> list[str]:
        found = getattr(self._local, "analyzer", None)
        if found is None:
            found = self._local.analyzer = analyzer()
        return list(found.analyze(text))

    def _filtered(self, text: tantivy.Query, filters: Filters) -> tantivy.Query:
        """``text`` restricted to papers passing ``filters`` and not hidden (the query alone when nothing is: a
        plain disjunction is what block-max WAND prunes best)."""
        musts = _filter_queries(filters)
        hidden = self.store.hidden_pks()
        if not musts and not hidden:
            return text
        # Filters score 0: a constant added to every score would round float32 scores and reorder near-ties.
        clauses = [
            (tantivy.Occur.Must, text),
            *((tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in musts),
        ]
        if hidden:
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_set_query(SCHEMA, "pk", hidden)))
        return tantivy.Query.boolean_query(clauses)


def _boosted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _day_range(field: str, low: object, high: object) -> tantivy.Query | None:
    lo, hi = (day_number(d.isoformat()) if d else None for d in (low, high))  # type: ignore[attr-defined]
    if lo is None and hi is None:
        return None
    return tantivy.Query.range_query(SCHEMA, field, tantivy.FieldType.Integer, lo, hi)


def _filter_queries(filters: Filters) -> Sequence[tantivy.Query]:
    """The filters as queries, with the meaning of :func:`dailypapers.papers.store.filter_sql.filter_sql`."""
    if not filters.active:
        return []
    found = [
        q
        for q in (
            _day_range("display_day", filters.since, filters.until),
            _day_range("added_day", filters.added_since, filters.added_until),
        )
        if q is not None
    ]
    if filters.category:
        found.append(tantivy.Query.term_query(SCHEMA, "category", filters.category))
    if filters.author:
        found.append(tantivy.Query.regex_query(SCHEMA, "author_lc", f".*{_regex_literal(filters.author.lower())}.*"))
    return found
