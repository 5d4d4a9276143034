"""Community votes (``dailypapers.community.votes``, one SQLAlchemy Core query set) on each backend: idempotent
votes, totals that include them everywhere (paper, daily list order), re-imports and round trips that never count a
vote twice, concurrent votes, and race-safe meta defaults.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import select

from dailypapers.community.votes import Votes
from dailypapers.config import Config
from dailypapers.db.engine import Database
from dailypapers.db.schema import votes as votes_table
from dailypapers.errors import BadInput
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.store import Store, open_store

DAY = date(2026, 11, 20)


def paper(title: str, upvotes: int = 0, **kw: object) -> Paper:
    return make_paper(title=title, abstract=f"About {title}.", source="hf", added_at=DAY, upvotes=upvotes, **kw)  # type: ignore[arg-type]


class Three:
    """A store with three papers, and the votes of the same database."""

    def __init__(self, store: Store, votes: Votes) -> None:
        self.store, self.votes = store, votes


@pytest.fixture
def three(db_config: Config) -> Iterator[Three]:
    store, db = open_store(db_config), Database(db_config)
    store.upsert_papers([paper("Alpha", 5, arxiv_id="2411.00001"), paper("Beta", 2), paper("Gamma", 0)])
    yield Three(store, Votes(db))
    store.close()
    db.close()


def upvotes(three: Three, paper_id: str) -> tuple[int, int]:
    found = three.store.get_paper(paper_id)
    assert found is not None
    return found.upvotes, found.votes


def test_votes_are_idempotent_and_counted_in_the_paper(three: Three) -> None:
    v = three.votes
    assert v.cast("2411.00001", "ann", True) == 6
    assert v.cast("2411.00001", "ann", True) == 6  # the same vote again changes nothing
    assert v.cast("2411.00001", "bob", True) == 7
    assert upvotes(three, "2411.00001") == (7, 2)
    assert v.cast("2411.00001", "ann", False) == 6
    assert v.cast("2411.00001", "ann", False) == 6
    assert v.cast("2411.00001", "cyd", False) == 6  # withdrawing a vote never cast
    assert upvotes(three, "2411.00001") == (6, 1)
    assert v.count() == 1 and three.store.table_counts()["votes"] == 1


def test_unknown_paper_and_bad_voter(three: Three) -> None:
    assert three.votes.cast("9999.99999", "ann", True) is None
    assert three.votes.count() == 0
    with pytest.raises(BadInput, match="voter"):
        three.votes.cast("2411.00001", "", True)
    with pytest.raises(BadInput, match="voter"):
        three.votes.cast("2411.00001", "x" * 129, True)


def test_voted_lists_the_voters_papers(three: Three) -> None:
    pks = {p.title: p.pk for p in three.store.iter_papers()}
    assert all(pk is not None for pk in pks.values())
    three.votes.cast("2411.00001", "ann", True)
    gamma = three.store.find_by_title("Gamma")
    assert gamma is not None
    three.votes.cast(gamma.id, "ann", True)
    three.votes.cast(gamma.id, "bob", True)
    everything = [int(pk) for pk in pks.values() if pk is not None]
    assert three.votes.voted("ann", everything) == {pks["Alpha"], pks["Gamma"]}
    assert three.votes.voted("bob", everything) == {pks["Gamma"]}
    assert three.votes.voted("cyd", everything) == set()
    assert three.votes.voted("ann", []) == set()
    assert three.votes.voted("ann", [pks["Beta"] or 0]) == set()
    assert three.votes.voted("ann", everything * 400) == {pks["Alpha"], pks["Gamma"]}  # more keys than one IN list


def test_sort_by_upvotes_includes_votes(three: Three) -> None:
    def order() -> list[str]:
        return [p.title for p in three.store.papers_added_between(DAY, DAY, sort="upvotes")]

    assert order() == ["Alpha", "Beta", "Gamma"]
    gamma = three.store.find_by_title("Gamma")
    assert gamma is not None
    for voter in ("a", "b", "c"):
        three.votes.cast(gamma.id, voter, True)
    assert order() == ["Alpha", "Gamma", "Beta"]  # 5, 0 + 3, 2
    for voter in ("d", "e", "f"):
        three.votes.cast(gamma.id, voter, True)
    assert order() == ["Gamma", "Alpha", "Beta"]  # 6, 5, 2
    assert [p.upvotes for p in three.store.papers_added_between(DAY, DAY, sort="upvotes")] == [6, 5, 2]


def test_reimport_and_round_trip_never_count_a_vote_twice(three: Three) -> None:
    store = three.store
    three.votes.cast("2411.00001", "ann", True)
    three.votes.cast("2411.00001", "bob", True)
    assert upvotes(three, "2411.00001") == (7, 2)
    # The same paper read, changed and written back keeps 5 imported + 2 votes.
    stored = store.get_paper("2411.00001")
    assert stored is not None
    counts = store.upsert_papers([dataclasses.replace(stored, abstract="Revised.", pk=None)])
    assert counts.updated == 1 and upvotes(three, "2411.00001") == (7, 2)
    assert store.upsert_papers([dataclasses.replace(stored, abstract="Revised.", pk=None)]).unchanged == 1
    # A fresh import with more upvotes at the source raises the imported part only; fewer changes nothing.
    assert store.upsert_papers([paper("Alpha", 9, arxiv_id="2411.00001")]).updated == 1
    assert upvotes(three, "2411.00001") == (11, 2)
    assert store.upsert_papers([paper("Alpha", 3, arxiv_id="2411.00001")]).unchanged == 1
    assert upvotes(three, "2411.00001") == (11, 2)


def test_concurrent_votes_keep_the_count(three: Three) -> None:
    def vote(i: int) -> int | None:
        return three.votes.cast("2411.00001", f"voter-{i % 20}", i % 3 != 0)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(vote, range(120)))
    alpha = three.store.get_paper("2411.00001")
    assert alpha is not None
    with three.votes.db.read() as conn:
        rows = set(conn.execute(select(votes_table.c.voter).where(votes_table.c.paper_pk == alpha.pk)).scalars())
    assert upvotes(three, "2411.00001") == (5 + len(rows), len(rows))


def test_meta_setdefault_keeps_the_first_value(store: Store) -> None:
    assert store.meta.setdefault("secret_key", "first") == "first"
    assert store.meta.setdefault("secret_key", "second") == "first"
    assert store.meta.get("secret_key") == "first"
