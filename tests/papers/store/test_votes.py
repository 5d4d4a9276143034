"""Community votes in the Store contract, on each backend: idempotent votes, totals that include them everywhere
(paper, daily list order), re-imports and round trips that never count a vote twice, and race-safe meta defaults.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest

from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.store import Store
from dailypapers.papers.store.base import Vote

DAY = date(2026, 11, 20)


def paper(title: str, upvotes: int = 0, **kw: object) -> Paper:
    return make_paper(title=title, abstract=f"About {title}.", source="hf", added_at=DAY, upvotes=upvotes, **kw)  # type: ignore[arg-type]


@pytest.fixture
def three(store: Store) -> Store:
    store.upsert_papers([paper("Alpha", 5, arxiv_id="2411.00001"), paper("Beta", 2), paper("Gamma", 0)])
    return store


def upvotes(store: Store, paper_id: str) -> tuple[int, int]:
    found = store.get_paper(paper_id)
    assert found is not None
    return found.upvotes, found.votes


def test_votes_are_idempotent_and_counted_in_the_paper(three: Store) -> None:
    assert three.set_vote("2411.00001", "ann", True) == 6
    assert three.set_vote("2411.00001", "ann", True) == 6  # the same vote again changes nothing
    assert three.set_vote("2411.00001", "bob", True) == 7
    assert upvotes(three, "2411.00001") == (7, 2)
    assert three.set_vote("2411.00001", "ann", False) == 6
    assert three.set_vote("2411.00001", "ann", False) == 6
    assert three.set_vote("2411.00001", "cyd", False) == 6  # withdrawing a vote never cast
    assert upvotes(three, "2411.00001") == (6, 1)
    assert three.count_votes() == 1 and three.table_counts()["votes"] == 1


def test_unknown_paper_and_bad_voter(three: Store) -> None:
    assert three.set_vote("9999.99999", "ann", True) is None
    assert three.count_votes() == 0
    with pytest.raises(ValueError, match="voter"):
        three.set_vote("2411.00001", "", True)
    with pytest.raises(ValueError, match="voter"):
        three.set_vote("2411.00001", "x" * 129, True)


def test_voted_lists_the_voters_papers(three: Store) -> None:
    pks = {p.title: p.pk for p in three.iter_papers()}
    assert all(pk is not None for pk in pks.values())
    three.set_vote("2411.00001", "ann", True)
    gamma = three.find_by_title("Gamma")
    assert gamma is not None
    three.set_vote(gamma.id, "ann", True)
    three.set_vote(gamma.id, "bob", True)
    everything = [int(pk) for pk in pks.values() if pk is not None]
    assert three.voted("ann", everything) == {pks["Alpha"], pks["Gamma"]}
    assert three.voted("bob", everything) == {pks["Gamma"]}
    assert three.voted("cyd", everything) == set()
    assert three.voted("ann", []) == set()
    assert three.voted("ann", [pks["Beta"] or 0]) == set()


def test_sort_by_upvotes_includes_votes(three: Store) -> None:
    def order() -> list[str]:
        return [p.title for p in three.papers_added_between(DAY, DAY, sort="upvotes")]

    assert order() == ["Alpha", "Beta", "Gamma"]
    gamma = three.find_by_title("Gamma")
    assert gamma is not None
    for voter in ("a", "b", "c"):
        three.set_vote(gamma.id, voter, True)
    assert order() == ["Alpha", "Gamma", "Beta"]  # 5, 0 + 3, 2
    for voter in ("d", "e", "f"):
        three.set_vote(gamma.id, voter, True)
    assert order() == ["Gamma", "Alpha", "Beta"]  # 6, 5, 2
    assert [p.upvotes for p in three.papers_added_between(DAY, DAY, sort="upvotes")] == [6, 5, 2]


def test_reimport_and_round_trip_never_count_a_vote_twice(three: Store) -> None:
    three.set_vote("2411.00001", "ann", True)
    three.set_vote("2411.00001", "bob", True)
    assert upvotes(three, "2411.00001") == (7, 2)
    # The same paper read, changed and written back keeps 5 imported + 2 votes.
    stored = three.get_paper("2411.00001")
    assert stored is not None
    counts = three.upsert_papers([dataclasses.replace(stored, abstract="Revised.", pk=None)])
    assert counts.updated == 1 and upvotes(three, "2411.00001") == (7, 2)
    assert three.upsert_papers([dataclasses.replace(stored, abstract="Revised.", pk=None)]).unchanged == 1
    # A fresh import with more upvotes at the source raises the imported part only; fewer changes nothing.
    assert three.upsert_papers([paper("Alpha", 9, arxiv_id="2411.00001")]).updated == 1
    assert upvotes(three, "2411.00001") == (11, 2)
    assert three.upsert_papers([paper("Alpha", 3, arxiv_id="2411.00001")]).unchanged == 1
    assert upvotes(three, "2411.00001") == (11, 2)


def test_concurrent_votes_keep_the_count(three: Store) -> None:
    def vote(i: int) -> int | None:
        return three.set_vote("2411.00001", f"voter-{i % 20}", i % 3 != 0)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(vote, range(120)))
    rows = {v.voter for v in three.iter_votes() if v.paper_id == "2411.00001"}
    assert upvotes(three, "2411.00001") == (5 + len(rows), len(rows))


def test_iter_and_save_votes(three: Store) -> None:
    three.set_vote("2411.00001", "ann", True)
    gamma = three.find_by_title("Gamma")
    assert gamma is not None
    three.set_vote(gamma.id, "bob", True)
    votes = list(three.iter_votes(batch=1))
    assert {(v.paper_id, v.voter) for v in votes} == {("2411.00001", "ann"), (gamma.id, "bob")}
    assert all(v.created_at.tzinfo is not None for v in votes)
    when = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    added = three.save_votes(
        [*votes, Vote(gamma.id, "cyd", when), Vote(gamma.id, "cyd", when), Vote("no-such-paper", "dan", when)]
    )
    assert added == 1  # stored votes, the duplicate and the unknown paper are skipped
    assert upvotes(three, gamma.id) == (2, 2)
    assert next(v for v in three.iter_votes() if v.voter == "cyd").created_at == when
    assert three.save_votes([]) == 0


def test_meta_setdefault_keeps_the_first_value(store: Store) -> None:
    assert store.meta_setdefault("secret_key", "first") == "first"
    assert store.meta_setdefault("secret_key", "second") == "first"
    assert store.get_meta("secret_key") == "first"
