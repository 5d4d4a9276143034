"""Authorship claims (``dailypapers.community.claims``) on each backend: only a paper's own author names can be
claimed, once per paper and user; admins alone decide, pending claims only; one name is approved for one user;
owners withdraw their own pending claims and nobody else's; approved claims list the user's papers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from dailypapers.accounts.models import User
from dailypapers.config import Config
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper

PASSWORD = "correct horse battery"


@dataclass
class World:
    lib: Library
    admin: User
    ann: User
    bob: User
    old: Paper  # by Ada Lovelace and Zoë Müller, 2020
    new: Paper  # by Ada Lovelace, 2024


@pytest.fixture
def world(db_config: Config) -> Iterator[World]:
    lib = Library(db_config)
    lib.ingest(
        [
            make_paper(arxiv_id="2001.00001", title="Old", abstract="Old.", authors=["Ada Lovelace", "Zoë Müller"],
                       added_at=date(2020, 1, 1), source="arxiv"),
            make_paper(arxiv_id="2401.00001", title="New", abstract="New.", authors=["Ada Lovelace"],
                       added_at=date(2024, 1, 1), source="arxiv"),
        ],
        index=False,
        progress=False,
    )  # fmt: skip
    admin = lib.accounts.create_user("root", "root@example.org", PASSWORD)  # the first user is an admin
    ann = lib.accounts.create_user("ann", "ann@example.org", PASSWORD)
    bob = lib.accounts.create_user("bob", "bob@example.org", PASSWORD)
    old, new = lib.papers.get("2001.00001"), lib.papers.get("2401.00001")
    assert admin.is_admin and old and new and old.pk and new.pk
    yield World(lib, admin, ann, bob, old, new)
    lib.close()


def pk(paper: Paper) -> int:
    assert paper.pk is not None
    return paper.pk


def test_a_claim_names_one_of_the_papers_authors_once(world: World) -> None:
    claims = world.lib.claims
    with pytest.raises(BadInput, match="not an author of this paper"):
        claims.claim(pk(world.new), world.ann.id, "Zoë Müller")  # an author of another paper
    with pytest.raises(BadInput, match="Choose which"):
        claims.claim(pk(world.new), world.ann.id, "  ")
    with pytest.raises(BadInput, match="at most 1000 characters"):
        claims.claim(pk(world.new), world.ann.id, "A" * 1001)
    made = claims.claim(pk(world.old), world.ann.id, " Zoë  Müller ")  # spaces as a form may send them
    assert (made.status, made.author_name, made.username, made.paper_id) == (
        "pending",
        "Zoë Müller",
        "ann",
        "2001.00001",
    )
    with pytest.raises(Conflict, match="claimed this paper already"):
        claims.claim(pk(world.old), world.ann.id, "Ada Lovelace")
    assert [c.id for c in claims.pending()] == [made.id] and claims.count_pending() == 1
    assert claims.claim_on(pk(world.old), world.ann.id) == made and claims.claim_on(pk(world.new), world.ann.id) is None
    assert not claims.is_author(world.ann.id, pk(world.old)) and claims.approved_for(world.ann.id) == []


def test_only_an_admin_decides_and_only_once(world: World) -> None:
    claims = world.lib.claims
    made = claims.claim(pk(world.old), world.ann.id, "Ada Lovelace")
    for somebody in (world.ann.id, world.bob.id, "no-such-user"):
        with pytest.raises(Forbidden):
            claims.approve(made.id, somebody)
    world.lib.accounts.set_disabled(world.admin)
    with pytest.raises(Forbidden):  # a disabled admin decides nothing
        claims.approve(made.id, world.admin.id)
    world.lib.accounts.set_disabled(world.admin, False)
    with pytest.raises(NotFound):
        claims.approve("no-such-claim", world.admin.id)
    approved = claims.approve(made.id, world.admin.id)
    assert approved.status == "approved" and approved.decided_at is not None
    with pytest.raises(Conflict, match="approved already"):
        claims.reject(made.id, world.admin.id)
    assert claims.is_author(world.ann.id, pk(world.old)) and not claims.is_author(world.bob.id, pk(world.old))
    assert [c.username for c in claims.claimed_by(pk(world.old))] == ["ann"] and claims.pending() == []


def test_one_author_name_is_approved_for_one_user(world: World) -> None:
    claims = world.lib.claims
    first = claims.claim(pk(world.old), world.ann.id, "Ada Lovelace")
    second = claims.claim(pk(world.old), world.bob.id, "Ada Lovelace")
    claims.approve(first.id, world.admin.id)
    with pytest.raises(Conflict, match="claimed by another user already"):
        claims.approve(second.id, world.admin.id)
    assert claims.reject(second.id, world.admin.id).status == "rejected"
    assert [(c.paper_id, c.status) for c in claims.claims_of(world.bob.id)] == [("2001.00001", "rejected")]
    world.lib.accounts.set_disabled(world.ann)
    assert claims.claimed_by(pk(world.old)) == []  # a disabled user's claims are not shown


def test_withdraw_own_pending_claims_only(world: World) -> None:
    claims = world.lib.claims
    mine = claims.claim(pk(world.old), world.ann.id, "Ada Lovelace")
    for other in (world.bob.id, world.admin.id):
        with pytest.raises(NotFound):  # never says that the claim exists
            claims.withdraw(mine.id, other)
    with pytest.raises(NotFound):
        claims.withdraw("x" * 500, world.ann.id)
    claims.withdraw(mine.id, world.ann.id)
    assert claims.claims_of(world.ann.id) == []
    again = claims.claim(pk(world.old), world.ann.id, "Ada Lovelace")  # withdrawn: may claim again
    claims.approve(again.id, world.admin.id)
    with pytest.raises(Conflict, match="only a pending claim"):
        claims.withdraw(again.id, world.ann.id)


def test_approved_papers_newest_first(world: World) -> None:
    claims = world.lib.claims
    for paper in (world.old, world.new):
        claims.approve(claims.claim(pk(paper), world.ann.id, "Ada Lovelace").id, world.admin.id)
    claims.claim(pk(world.old), world.bob.id, "Zoë Müller")  # pending: not on bob's list
    assert [p.id for p in claims.approved_for(world.ann.id)] == ["2401.00001", "2001.00001"]
    assert [p.id for p in claims.approved_for(world.ann.id, limit=1, offset=1)] == ["2001.00001"]
    assert claims.count_approved(world.ann.id) == 2 and claims.count_approved(world.bob.id) == 0
    assert [c.paper_id for c in claims.claims_of(world.ann.id)] == ["2401.00001", "2001.00001"]  # newest claim first
