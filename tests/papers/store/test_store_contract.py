"""The Store contract: every test runs against each backend (SQLite and PostgreSQL, see ``--backend``).

The data is the demo corpus (298 titles and abstracts) with synthetic authors, categories, days and upvotes so that
filters, ordering and day navigation have something to bite on.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from functools import cache

import numpy as np
import pytest

from dailypapers.demo import DEMO_CORPUS
from dailypapers.papers.models import Paper, make_paper, title_id
from dailypapers.papers.store import Filters, Store, UpsertCounts

CORPUS = DEMO_CORPUS
DROPOUT_TITLE = "Multi-Sample Dropout for Accelerated Training and Better Generalization"
DAYS = (date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 20))  # no papers on the 19th
CATEGORIES = (["cs.LG", "stat.ML"], ["cs.CL"], ["cs.CV", "cs.LG"], ["stat.ME"], ["csx.XX"])
MODEL = "test-model"
DIM = 32


@cache
def _records() -> list[dict[str, str]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpus() -> list[Paper]:
    """The demo corpus as papers: title-id papers spread over DAYS, every third one with a publication date."""
    papers = []
    for i, rec in enumerate(_records()):
        published = datetime(2026, 10, 1 + i % 28, 12, tzinfo=UTC) if i % 3 == 0 else None
        papers.append(
            make_paper(
                title=rec["title"],
                abstract=rec["abstract"],
                source="jsonl",
                added_at=DAYS[i % len(DAYS)],
                authors=[f"Ada{i % 7} Smith", f"Bob Jones{i % 5}"],
                categories=CATEGORIES[i % len(CATEGORIES)],
                published=published,
                upvotes=(i * 7) % 13,
            )
        )
    return papers


def arxiv_paper(title: str = "A Study of Things", abstract: str = "We study things.", **kw: object) -> Paper:
    kw.setdefault("arxiv_id", "2411.01234v1")
    kw.setdefault("added_at", date(2026, 1, 5))
    return make_paper(title=title, abstract=abstract, source="arxiv", **kw)  # type: ignore[arg-type]


@pytest.fixture
def loaded(store: Store) -> Store:
    counts = store.upsert_papers(corpus())
    assert (counts.added, counts.updated, counts.unchanged) == (len(_records()), 0, 0)
    return store


def _by_title(store: Store, title: str) -> Paper:
    paper = store.find_by_title(title)
    assert paper is not None and paper.pk is not None
    return paper


# -- lifecycle and upserts ------------------------------------------------------------------------------------------
def test_migrate_is_idempotent(store: Store, backend: str) -> None:
    assert store.backend == backend
    assert store.migrate() == []
    assert store.count_papers() == 0


def test_reimport_is_unchanged(loaded: Store) -> None:
    counts = loaded.upsert_papers(corpus())
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, len(_records()))
    assert loaded.count_papers() == len(_records())


def test_round_trip_keeps_every_field(store: Store) -> None:
    paper = arxiv_paper(
        authors=["Ada Lovelace", "Émile Borel"],
        affiliations=["Analytical Engines Ltd", None],
        categories=["cs.LG", "math.PR"],
        published=datetime(2024, 11, 2, 17, 30, 5, tzinfo=UTC),
        updated=datetime(2024, 11, 9, 8, 0, tzinfo=UTC),
        comment="12 pages",
        journal_ref="J. Things 1 (2025)",
        doi="10.1000/xyz",
        upvotes=4,
    )
    store.upsert_papers([paper])
    got = store.get_paper("2411.01234")
    assert got is not None and got.pk is not None
    assert got == dataclasses.replace(paper, pk=got.pk)
    assert got.content_hash() == paper.content_hash()
    assert store.get_paper("2411.99999") is None


def test_newer_version_replaces_and_older_is_ignored(store: Store) -> None:
    assert store.upsert_papers([arxiv_paper(abstract="First.")]).added == 1
    counts = store.upsert_papers([arxiv_paper(abstract="Second.", arxiv_id="2411.01234v2")])
    assert (counts.added, counts.updated, counts.unchanged) == (0, 1, 0)
    counts = store.upsert_papers([arxiv_paper(abstract="Stale.", arxiv_id="2411.01234v1")])
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 1)
    got = store.get_paper("2411.01234")
    assert got is not None and (got.version, got.abstract) == (2, "Second.")
    assert store.count_papers() == 1


def test_added_at_never_changes_and_upvotes_never_decrease(store: Store) -> None:
    store.upsert_papers([arxiv_paper(upvotes=10, added_at=date(2026, 1, 5))])
    assert store.upsert_papers([arxiv_paper(upvotes=3, added_at=date(2026, 2, 1))]).unchanged == 1
    counts = store.upsert_papers([arxiv_paper(abstract="Changed.", upvotes=3, added_at=date(2026, 2, 1))])
    assert counts.updated == 1
    got = store.get_paper("2411.01234")
    assert got is not None and (got.abstract, got.upvotes, got.added_at) == ("Changed.", 10, date(2026, 1, 5))
    assert store.upsert_papers([arxiv_paper(abstract="Changed.", upvotes=15)]).updated == 1
    got = store.get_paper("2411.01234")
    assert got is not None and got.upvotes == 15


def test_title_id_paper_merges_with_its_arxiv_record(store: Store) -> None:
    title = "Sparse Things at Scale"
    plain = make_paper(title=title, abstract="No id yet.", source="jsonl", added_at=date(2026, 1, 1))
    store.upsert_papers([plain])
    first = store.get_paper(title_id(title))
    assert first is not None
    counts = store.upsert_papers([arxiv_paper(title=title + "!", abstract="With id.", added_at=date(2026, 1, 9))])
    assert (counts.added, counts.updated, counts.unchanged) == (0, 1, 0)
    assert store.count_papers() == 1
    merged = store.get_paper("2411.01234")
    assert merged is not None and (merged.pk, merged.added_at) == (first.pk, first.added_at)
    assert merged.abstract == "With id."
    assert store.get_paper(title_id(title)) is None
    assert store.upsert_papers([plain]).unchanged == 1  # the title-only record arrives again: the arXiv one stays
    assert store.count_papers() == 1


def test_arxiv_record_first_then_title_only_record(store: Store) -> None:
    store.upsert_papers([arxiv_paper(title="Dense Things")])
    plain = make_paper(title="dense things", abstract="Other text.", source="jsonl", added_at=date(2026, 1, 1))
    assert store.upsert_papers([plain]).unchanged == 1
    assert store.count_papers() == 1
    assert store.get_paper("2411.01234") is not None


def test_one_batch_sees_its_own_earlier_papers(store: Store) -> None:
    title = "Batched Things"
    plain = make_paper(title=title, abstract="No id yet.", source="jsonl", added_at=date(2026, 1, 1))
    batch = [
        plain,
        arxiv_paper(title=title, abstract="v1.", arxiv_id="2411.01234v1"),  # merges into the title-id paper
        arxiv_paper(title=title, abstract="v2.", arxiv_id="2411.01234v2"),
        arxiv_paper(title=title, abstract="v1 again.", arxiv_id="2411.01234v1"),  # older: ignored
        plain,  # title-only again: the arXiv record stays
        arxiv_paper(title="Other Things", arxiv_id="2411.05555"),
    ]
    counts = store.upsert_papers(batch)
    assert (counts.added, counts.updated, counts.unchanged) == (2, 2, 2)
    assert store.count_papers() == 2
    got = store.get_paper("2411.01234")
    assert got is not None and (got.version, got.abstract, got.added_at) == (2, "v2.", date(2026, 1, 1))
    assert store.upsert_papers([]) == UpsertCounts()


# -- reads ----------------------------------------------------------------------------------------------------------
def test_get_papers_by_pk_keeps_the_given_order(loaded: Store) -> None:
    pks = [p.pk for p in loaded.iter_papers(batch=50) if p.pk is not None]
    assert len(pks) == len(_records()) and pks == sorted(pks)
    wanted = [pks[5], pks[0], 10**9, pks[42], pks[5]]
    assert [p.pk for p in loaded.get_papers_by_pk(wanted)] == [pks[5], pks[0], pks[42], pks[5]]
    assert loaded.get_papers_by_pk([]) == []


def test_find_by_title_is_normalised(loaded: Store) -> None:
    paper = loaded.find_by_title("  multi-sample DROPOUT for accelerated training, and better generalization!")
    assert paper is not None and paper.title == DROPOUT_TITLE
    assert loaded.find_by_title("No Such Paper") is None


def test_papers_added_between_order_limit_offset(loaded: Store) -> None:
    papers = corpus()
    start, end = DAYS[1], DAYS[2]
    in_range = list(loaded.iter_papers())
    in_range = [p for p in in_range if p.added_at and start <= p.added_at <= end]
    newest = sorted(in_range, key=lambda p: (p.added_at, p.pk), reverse=True)
    got = loaded.papers_added_between(start, end)
    assert [p.pk for p in got] == [p.pk for p in newest]
    assert len(got) == sum(1 for p in papers if p.added_at and start <= p.added_at <= end)
    assert loaded.count_added_between(start, end) == len(got)
    page = loaded.papers_added_between(start, end, limit=10, offset=5)
    assert [p.pk for p in page] == [p.pk for p in newest[5:15]]
    by_votes = sorted(in_range, key=lambda p: (p.upvotes, p.display_date, p.pk), reverse=True)
    got_votes = loaded.papers_added_between(start, end, limit=20, sort="upvotes")
    assert [p.pk for p in got_votes] == [p.pk for p in by_votes[:20]]
    assert loaded.papers_added_between(date(2020, 1, 1), date(2020, 1, 2)) == []
    assert loaded.count_added_between(date(2020, 1, 1), date(2020, 1, 2)) == 0


def test_days(store: Store) -> None:
    assert store.latest_added_day() is None
    assert store.neighbour_days(DAYS[0]) == (None, None)
    store.upsert_papers(corpus())
    assert store.latest_added_day() == DAYS[-1]
    assert store.neighbour_days(DAYS[0]) == (None, DAYS[1])
    assert store.neighbour_days(DAYS[2]) == (DAYS[1], DAYS[3])
    assert store.neighbour_days(date(2026, 11, 19)) == (DAYS[2], DAYS[3])
    assert store.neighbour_days(DAYS[3]) == (DAYS[2], None)


# -- keyword search -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["dropout", "Dropout", "multi-sample dropout", "dropout generalization", "DROPOUT?!"])
def test_keyword_search_finds_the_dropout_paper(loaded: Store, query: str) -> None:
    target = _by_title(loaded, DROPOUT_TITLE).pk
    hits = loaded.keyword_search(query, 10)
    assert 0 < len(hits) <= 10
    assert target in [h.pk for h in hits[:3]]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_keyword_search_ranks_title_above_abstract(store: Store) -> None:
    store.upsert_papers(
        [
            arxiv_paper(title="Notes on Widgets", abstract="A quokka appears once here.", arxiv_id="2401.00001"),
            arxiv_paper(title="Quokka Behaviour", abstract="We observe animals.", arxiv_id="2401.00002"),
            arxiv_paper(title="Animals", abstract="Nothing to see.", authors=["Quokka Jones"], arxiv_id="2401.00003"),
        ]
    )
    hits = store.keyword_search("quokka", 10)
    ids = [p.id for p in store.get_papers_by_pk([h.pk for h in hits])]
    assert ids[0] == "2401.00002"
    assert set(ids) == {"2401.00001", "2401.00002", "2401.00003"}


def test_keyword_search_stems_and_limits(loaded: Store) -> None:
    assert len(loaded.keyword_search("training", 5)) == 5
    assert loaded.keyword_search("   ", 10) == []
    assert loaded.keyword_search("?!* ()", 10) == []
    assert loaded.keyword_search("zzyzx qwxv", 10) == []


HOSTILE = [
    '"dropout" OR (NEAR AND*',
    "'; DROP TABLE papers; --",
    "dropout'); DELETE FROM papers; --",
    "dropout & !training | <-> :* \\",
    'title:dropout NOT "unbalanced',
    "dropout\x00",
    "the and of",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_are_plain_text(loaded: Store, query: str) -> None:
    hits = loaded.keyword_search(query, 20)
    if "dropout" in query.lower():
        assert _by_title(loaded, DROPOUT_TITLE).pk in [h.pk for h in hits]
    assert loaded.count_papers() == len(_records())


def _expected(papers: list[Paper], f: Filters) -> set[int]:
    def ok(p: Paper) -> bool:
        d = p.display_date
        assert d is not None
        if (f.since and d < f.since) or (f.until and d > f.until):
            return False
        if f.category and not any(c == f.category or c.startswith(f.category + ".") for c in p.categories):
            return False
        return not (f.author and not any(f.author.lower() in a.lower() for a in p.authors))

    return {p.pk for p in papers if ok(p) and p.pk is not None}


FILTERS = [
    Filters(),
    Filters(category="cs"),
    Filters(category="cs.LG"),
    Filters(category="stat"),
    Filters(category="c"),
    Filters(category="cs.L"),
    Filters(category="c_"),  # LIKE wildcards are literal: "c_" is not "cs"
    Filters(category="%"),
    Filters(author="smith"),
    Filters(author="ADA3 SMITH"),
    Filters(author="jones4"),
    Filters(author="%"),
    Filters(since=date(2026, 10, 10)),
    Filters(until=date(2026, 10, 10)),
    Filters(since=date(2026, 10, 5), until=date(2026, 11, 17)),
    Filters(since=date(2026, 10, 5), until=date(2026, 11, 17), category="cs", author="ada1"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_filters(loaded: Store, filters: Filters) -> None:
    papers = list(loaded.iter_papers())
    expected = _expected(papers, filters)
    assert loaded.filter_pks(filters) == expected
    some = [*sorted(p.pk for p in papers if p.pk is not None)[::3], 10**9]  # plus a key no paper has
    assert loaded.filter_pks(filters, among=some) == expected & set(some)
    assert loaded.filter_pks(filters, among=[]) == set()
    hits = loaded.keyword_search("learning", 500, filters)
    assert {h.pk for h in hits} <= expected
    unfiltered = {h.pk for h in loaded.keyword_search("learning", 500)}
    assert {h.pk for h in hits} == unfiltered & expected


# -- embeddings -----------------------------------------------------------------------------------------------------
def _vectors(papers: list[Paper], seed: int = 0) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {p.pk: rng.standard_normal(DIM).astype(np.float32) for p in papers if p.pk is not None}


def _embed_all(store: Store) -> dict[int, np.ndarray]:
    batches = list(store.papers_needing_embedding(MODEL, batch=100))
    assert [len(b) for b in batches] == [100, 100, len(_records()) - 200]
    papers = [p for b in batches for p in b]
    vectors = _vectors(papers)
    store.save_embeddings(MODEL, [(p, vectors[p.pk]) for p in papers if p.pk is not None])
    return vectors


def test_embeddings_round_trip(loaded: Store) -> None:
    assert loaded.count_needing_embedding(MODEL) == len(_records())
    vectors = _embed_all(loaded)
    assert loaded.count_needing_embedding(MODEL) == 0
    assert list(loaded.papers_needing_embedding(MODEL)) == []
    chunks = list(loaded.iter_embeddings(MODEL, batch=120))
    assert [len(pks) for pks, _ in chunks] == [120, 120, len(_records()) - 240]
    pks = np.concatenate([c[0] for c in chunks])
    mat = np.vstack([c[1] for c in chunks])
    assert pks.dtype == np.int64 and mat.dtype == np.float32 and mat.shape == (len(_records()), DIM)
    assert list(pks) == sorted(vectors)
    np.testing.assert_array_equal(mat, np.vstack([vectors[int(pk)] for pk in pks]))
    one = loaded.get_embedding(MODEL, int(pks[7]))
    assert one is not None and one.dtype == np.float32
    np.testing.assert_array_equal(one, vectors[int(pks[7])])
    assert loaded.get_embedding(MODEL, 10**9) is None
    assert loaded.get_embedding("other-model", int(pks[7])) is None
    assert list(loaded.iter_embeddings("other-model")) == []
    assert loaded.count_needing_embedding("other-model") == len(_records())


def test_only_new_or_changed_text_needs_embedding(loaded: Store) -> None:
    _embed_all(loaded)
    dropout = _by_title(loaded, DROPOUT_TITLE)
    loaded.upsert_papers([dataclasses.replace(dropout, pk=None, upvotes=dropout.upvotes + 50)])  # text unchanged
    assert loaded.count_needing_embedding(MODEL) == 0
    changed = dataclasses.replace(dropout, pk=None, abstract=dropout.abstract + " Now with more dropout.")
    new = make_paper(title="A Brand New Paper", abstract="Fresh text.", source="jsonl", added_at=DAYS[0])
    counts = loaded.upsert_papers([changed, new])
    assert (counts.added, counts.updated) == (1, 1)
    need = [p for b in loaded.papers_needing_embedding(MODEL) for p in b]
    assert sorted(p.title for p in need) == sorted([DROPOUT_TITLE, "A Brand New Paper"])
    loaded.save_embeddings(MODEL, [(p, np.ones(DIM, dtype=np.float32)) for p in need])
    assert loaded.count_needing_embedding(MODEL) == 0
    again = loaded.get_embedding(MODEL, dropout.pk)  # type: ignore[arg-type]
    assert again is not None and np.all(again == 1)


# -- meta -----------------------------------------------------------------------------------------------------------
def test_meta(store: Store) -> None:
    assert store.meta.get("embed_model") is None
    store.meta.set("embed_model", "all-MiniLM-L6-v2")
    assert store.meta.get("embed_model") == "all-MiniLM-L6-v2"
    store.meta.set("embed_model", "other")
    assert store.meta.get("embed_model") == "other"
    assert store.meta.get("missing") is None
