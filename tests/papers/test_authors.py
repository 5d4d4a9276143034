"""Author pages' data (``dailypapers.papers.authors``) on each backend: an author's papers newest first, paged and
counted, the spellings that share a slug, co-authors with shared-paper counts, unicode names, hidden papers left
out, and the backfill of slugs for author rows written before migration 0005."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, update

from dailypapers.db.schema import authors as authors_table
from dailypapers.db.schema import hidden_papers
from dailypapers.papers.authors import Authors, Coauthor, fill_author_slugs
from dailypapers.papers.models import Paper, author_slug, make_paper
from dailypapers.papers.store import Store


def paper(arxiv_id: str, title: str, names: list[str], published: datetime | None, added: date) -> Paper:
    return make_paper(
        arxiv_id=arxiv_id, title=title, abstract=f"About {title}.", authors=names, published=published, added_at=added,
        source="arxiv",
    )  # fmt: skip


def _utc(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def corpus() -> list[Paper]:
    """Ada wrote four papers (one as "Ada  Lovelace."), with Charles on three and Zoë on one; 李明 on one."""
    return [
        paper("2401.00001", "Oldest", ["Ada Lovelace", "Charles Babbage"], _utc(2020, 1, 1), date(2026, 1, 1)),
        paper("2401.00002", "Newest", ["Charles Babbage", "Ada Lovelace", "Zoë Müller"], _utc(2024, 5, 1, 9),
              date(2026, 1, 2)),
        paper("2401.00003", "Same day, later", ["Ada Lovelace."], _utc(2024, 5, 1, 18), date(2026, 1, 3)),
        paper("2401.00004", "Unpublished", ["Ada Lovelace", "Charles Babbage", "李明"], None, date(2022, 3, 1)),
        paper("2401.00005", "Not Ada's", ["Charles Babbage", "李明"], _utc(2023, 1, 1), date(2026, 1, 1)),
    ]  # fmt: skip


def test_an_authors_papers_newest_first_paged_and_counted(store: Store) -> None:
    store.upsert_papers(corpus())
    lib = Authors(store)
    newest_first = ["Same day, later", "Newest", "Unpublished", "Oldest"]
    assert [p.title for p in lib.papers("ada-lovelace")] == newest_first
    assert lib.count("ada-lovelace") == 4
    assert [p.title for p in lib.papers("ada-lovelace", limit=2)] == newest_first[:2]
    assert [p.title for p in lib.papers("ada-lovelace", limit=2, offset=2)] == newest_first[2:]
    assert lib.papers("ada-lovelace", limit=2, offset=4) == []
    assert lib.names("ada-lovelace") == ["Ada Lovelace", "Ada Lovelace."]  # one page for both spellings
    for unknown in ("nobody", "", "x" * 500):
        assert (lib.papers(unknown), lib.count(unknown), lib.names(unknown), lib.coauthors(unknown)) == ([], 0, [], [])


def test_coauthors_with_shared_paper_counts(store: Store) -> None:
    store.upsert_papers(corpus())
    lib = Authors(store)
    assert lib.coauthors("ada-lovelace") == [
        Coauthor("Charles Babbage", "charles-babbage", 3),
        Coauthor("Zoë Müller", "zoe-muller", 1),
        Coauthor("李明", "李明", 1),
    ]
    assert lib.coauthors("ada-lovelace", limit=1) == [Coauthor("Charles Babbage", "charles-babbage", 3)]
    assert lib.coauthors("charles-babbage")[0] == Coauthor("Ada Lovelace", "ada-lovelace", 3)
    assert [p.title for p in lib.papers("李明")] == ["Not Ada's", "Unpublished"]
    assert lib.names("zoe-muller") == ["Zoë Müller"] and author_slug("Zoë Müller") == "zoe-muller"


def test_hidden_papers_are_left_out(store: Store) -> None:
    store.upsert_papers(corpus())
    newest = store.get_paper("2401.00002")
    assert newest is not None and newest.pk is not None
    with store.db.write() as conn:
        conn.execute(hidden_papers.insert().values(paper_pk=newest.pk, hidden_at=datetime.now(UTC), reason="spam"))
    lib = Authors(store)
    assert [p.title for p in lib.papers("ada-lovelace")] == ["Same day, later", "Unpublished", "Oldest"]
    assert lib.count("ada-lovelace") == 3
    assert lib.names("zoe-muller") == [] and "zoe-muller" not in {c.slug for c in lib.coauthors("ada-lovelace")}


def test_migrate_fills_the_slugs_of_rows_from_before_0005(store: Store) -> None:
    store.upsert_papers(corpus())
    with store.db.write() as conn:  # as rows written before migration 0005 added the column
        conn.execute(update(authors_table).values(slug=None))
    assert Authors(store).names("ada-lovelace") == []
    store.migrate()  # nothing left to apply, but the backfill runs at its end
    with store.db.read() as conn:
        rows = dict(conn.execute(select(authors_table.c.name, authors_table.c.slug)).all())
    assert rows["Zoë Müller"] == "zoe-muller" and rows["李明"] == "李明" and None not in rows.values()
    assert Authors(store).names("ada-lovelace") == ["Ada Lovelace", "Ada Lovelace."]
    assert fill_author_slugs(store.db) == 0  # done once


def test_the_backfill_goes_in_batches(store: Store) -> None:
    names = [f"Author {i}" for i in range(7)] + ["?!"]
    store.upsert_papers([paper("2401.00009", "Many authors", names, None, date(2026, 1, 1))])
    with store.db.write() as conn:
        conn.execute(update(authors_table).values(slug=None))
    assert fill_author_slugs(store.db, batch=3) == 8  # three batches, and the punctuation-only name is not NULL
    with store.db.read() as conn:
        rows = dict(conn.execute(select(authors_table.c.name, authors_table.c.slug)).all())
    assert rows["Author 6"] == "author-6" and rows["?!"] == ""
    assert fill_author_slugs(store.db, batch=3) == 0
