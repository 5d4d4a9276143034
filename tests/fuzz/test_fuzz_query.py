"""Fuzzing the search query parser: the terms a text is cut into, the FTS5 expression built from them (run on a real
FTS5 table), and whole keyword searches (short queries, pasted abstracts, hostile filters) on each backend. A
query gives results or a :class:`UserError` with a sentence (too long, a bad filter); never a database error."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dailypapers.errors import UserError
from dailypapers.library import Library
from dailypapers.papers.models import Filters
from dailypapers.papers.sources.jsonl import read_jsonl
from dailypapers.papers.store.terms import MAX_TERMS, fts5_expression, is_long, query_terms, term_counts
from tests.demo import DEMO_CORPUS, backend_config
from tests.fuzz.strategies import FUZZ, TRICKY

SYNTAX = ['"', "'", "*", "^", "-", "+", ":", "(", ")", "NEAR(", "AND", "OR", "NOT", "&", "|", "!", "<->", ":*",
          "title:", "{", "}", "\\", "%", "_", "\x00", "\ud800", "’", "'s", "__", "NEAR/3"]  # fmt: skip
WORDS = ["dropout", "attention", "graph", "neural", "the", "of", "models", "learning"]
pieces = st.one_of(st.sampled_from(SYNTAX), st.sampled_from(TRICKY), st.text(max_size=20), st.sampled_from(WORDS))
queries = st.lists(pieces, max_size=60).map(" ".join)


@FUZZ
@given(queries)
@example("\"\" '' ** NEAR( ) AND OR NOT")
@example("the of and " * 50)
def test_terms_are_words_and_make_a_valid_fts5_expression(text: str) -> None:
    terms = query_terms(text)
    assert len(terms) <= MAX_TERMS and all(t and t == t.lower() and " " not in t for t in terms)
    assert isinstance(is_long(text), bool) and all(n > 0 for n in term_counts(text).values())
    if not terms:
        return
    with sqlite3.connect(":memory:") as conn:  # the expression is matched as words, never parsed as syntax
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61')")
        conn.execute("INSERT INTO t VALUES ('dropout attention graph neural models learning')")
        for conjunctive in (False, True):
            conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (fts5_expression(terms, conjunctive),)).fetchone()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def library(request: pytest.FixtureRequest) -> Iterator[Library]:
    """A small library per backend (60 demo papers, keyword search only), shared by a test's examples."""
    if request.config.getoption("--backend") not in ("all", request.param):
        pytest.skip(f"--backend {request.config.getoption('--backend')}")
    with tempfile.TemporaryDirectory(prefix="fuzz-query-") as folder:
        lib = Library(backend_config(request, request.param, Path(folder)))
        lib.init()
        lib.ingest(islice(read_jsonl(DEMO_CORPUS), 60), added_at=date(2026, 11, 20), progress=False, index=False)
        yield lib
        lib.close()


long_texts = st.lists(pieces, min_size=40, max_size=400).map(" ".join)


@FUZZ
@given(
    st.one_of(queries, long_texts),
    st.one_of(st.none(), st.sampled_from(["cs", "cs.LG", "%", "_", "'", ""]), st.text(max_size=10)),
    st.one_of(st.none(), st.sampled_from(["%", "_", "\\", "'", "O'Brien"]), st.text(max_size=10)),
    st.integers(min_value=-2, max_value=10**6),
)
@example("dropout", None, None, 1)
@example("\x00", "\x00", "\x00", 1)
def test_keyword_search_answers_or_refuses_with_a_sentence(
    library: Library, text: str, category: str | None, author: str | None, page: int
) -> None:
    try:
        result = library.search.query(
            text, filters=Filters(category=category, author=author), mode="keyword", page=page, page_size=5
        )
    except UserError as exc:
        assert str(exc)
        return
    assert all(r.paper.id for r in result.results) and result.total >= len(result.results)
