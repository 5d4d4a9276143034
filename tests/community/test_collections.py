"""Collections (``dailypapers.community.collections``) on each backend: who may read and change what, the order
kept contiguous through any sequence of changes (also under concurrent adds), re-adding, notes, limits and their
messages, control characters, hidden papers and disabled owners.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import pytest

from dailypapers.accounts.models import User
from dailypapers.community import collections as collections_module
from dailypapers.community.collections import MAX_COLLECTIONS, Collections
from dailypapers.config import Config
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import make_paper

DAY = date(2026, 11, 20)
PASSWORD = "correct horse battery"


@dataclass
class World:
    lib: Library
    ann: User
    bob: User
    admin: User
    pks: list[int]

    @property
    def c(self) -> Collections:
        return self.lib.collections


@pytest.fixture
def world(db_config: Config) -> Iterator[World]:
    lib = Library(db_config)
    lib.init()
    records = [
        make_paper(arxiv_id=f"2411.{i:05d}", title=f"Paper {i}", abstract=f"About {i}.", source="hf")
        for i in range(1, 13)
    ]
    lib.ingest(records, added_at=DAY, progress=False, index=False)
    admin = lib.accounts.create_user("root", "root@example.org", PASSWORD)  # the first account: an admin
    ann = lib.accounts.create_user("ann", "ann@example.org", PASSWORD)
    bob = lib.accounts.create_user("bob", "bob@example.org", PASSWORD)
    pks = [int(p.pk) for i in range(1, 13) if (p := lib.papers.get(f"2411.{i:05d}")) and p.pk is not None]
    assert admin.is_admin and len(pks) == 12
    yield World(lib, ann, bob, admin, pks)
    lib.close()


def order(w: World, cid: str) -> list[tuple[int, int]]:
    """``[(paper_pk, position), …]`` as the owner reads them."""
    return [(item.paper_pk, item.position) for item in w.c.items(cid, w.ann.id)]


def test_private_is_the_owners_alone_and_public_is_read_only_for_others(world: World) -> None:
    w = world
    private = w.c.create(w.ann.id, "Reading", "to read")
    public = w.c.create(w.ann.id, "Best of", public=True)
    for cid in (private.id, public.id):
        w.c.add(cid, w.ann.id, w.pks[0], "mine")
    assert [c.id for c in w.c.for_user(w.ann.id)] == [private.id, public.id]  # oldest first
    assert [c.id for c in w.c.for_user(w.ann.id, public_only=True)] == [public.id]
    got = w.c.get(private.id, w.ann.id)
    assert (got.name, got.description, got.public, got.owner, got.size) == ("Reading", "to read", False, "ann", 1)
    for viewer in (w.bob.id, w.admin.id, None):  # admins read no private collection either
        with pytest.raises(NotFound, match="There is no collection"):
            w.c.get(private.id, viewer)
        with pytest.raises(NotFound):
            w.c.items(private.id, viewer)
        assert w.c.get(public.id, viewer).name == "Best of"
        assert [i.note for i in w.c.items(public.id, viewer)] == ["mine"]
    changes = [
        lambda cid, uid: w.c.update(cid, uid, name="x"),
        lambda cid, uid: w.c.delete(cid, uid),
        lambda cid, uid: w.c.add(cid, uid, w.pks[1]),
        lambda cid, uid: w.c.remove(cid, uid, w.pks[0]),
        lambda cid, uid: w.c.set_note(cid, uid, w.pks[0], "x"),
        lambda cid, uid: w.c.move(cid, uid, w.pks[0], 0),
    ]
    for change in changes:
        for other in (w.bob.id, w.admin.id):
            with pytest.raises(NotFound):  # a private id is unknown to them: it leaks nothing
                change(private.id, other)
            with pytest.raises(Forbidden, match="Only its owner"):
                change(public.id, other)
    assert order(w, private.id) == order(w, public.id) == [(w.pks[0], 0)]
    assert w.c.get(public.id, None).name == "Best of"  # nothing was changed by them
    for unknown in ("", "nope", "0" * 26, "x" * 10_000):
        with pytest.raises(NotFound):
            w.c.get(unknown, w.ann.id)
        with pytest.raises(NotFound):
            w.c.add(unknown, w.ann.id, w.pks[0])


def test_making_public_and_private_again(world: World) -> None:
    w = world
    cid = w.c.create(w.ann.id, "Later").id
    assert w.c.update(cid, w.ann.id, public=True).public
    assert w.c.get(cid, w.bob.id).public
    updated = w.c.update(cid, w.ann.id, public=False, description="  now\tprivate  ")
    assert (updated.public, updated.description, updated.name) == (False, "now private", "Later")
    with pytest.raises(NotFound):
        w.c.get(cid, w.bob.id)
    assert w.c.rename(cid, w.ann.id, "Sooner").name == "Sooner"


def test_adding_appends_and_adding_again_keeps_place_and_note(world: World) -> None:
    w = world
    cid = w.c.create(w.ann.id, "Queue").id
    assert [w.c.add(cid, w.ann.id, pk, note=f"n{i}") for i, pk in enumerate(w.pks[:3])] == [True] * 3
    first = w.c.items(cid, w.ann.id)[0]
    assert w.c.add(cid, w.ann.id, w.pks[0]) is False  # already there: nothing moves, the note stays
    again = w.c.items(cid, w.ann.id)[0]
    assert (again.paper_pk, again.position, again.note, again.added_at) == (w.pks[0], 0, "n0", first.added_at)
    assert w.c.add(cid, w.ann.id, w.pks[0], note="better") is False
    assert [(i.paper_pk, i.note) for i in w.c.items(cid, w.ann.id)] == [
        (w.pks[0], "better"),
        (w.pks[1], "n1"),
        (w.pks[2], "n2"),
    ]
    w.c.set_note(cid, w.ann.id, w.pks[1], "")
    assert w.c.items(cid, w.ann.id)[1].note == ""
    with pytest.raises(NotFound, match="not in this collection"):
        w.c.set_note(cid, w.ann.id, w.pks[5], "x")
    with pytest.raises(NotFound, match="not in this collection"):
        w.c.move(cid, w.ann.id, w.pks[5], 0)
    with pytest.raises(NotFound, match="no such paper"):
        w.c.add(cid, w.ann.id, 10**9)
    other = w.c.create(w.ann.id, "Other").id
    w.c.add(other, w.ann.id, w.pks[1])
    assert w.c.containing(w.ann.id, w.pks[1]) == {cid, other}
    assert w.c.containing(w.ann.id, w.pks[0]) == {cid}
    assert w.c.containing(w.bob.id, w.pks[1]) == set()
    assert w.c.remove(cid, w.ann.id, w.pks[1]) is True
    assert w.c.remove(cid, w.ann.id, w.pks[1]) is False  # twice: nothing to remove
    assert w.c.containing(w.ann.id, w.pks[1]) == {other}


def test_any_sequence_of_changes_keeps_positions_contiguous(world: World) -> None:
    w, rng = world, random.Random(10)
    cid = w.c.create(w.ann.id, "Shuffle").id
    model: list[int] = []
    for _ in range(120):
        action = rng.choice(["add", "add", "move", "move", "remove"])
        pk = rng.choice(w.pks)
        if action == "add":
            w.c.add(cid, w.ann.id, pk)
            model += [] if pk in model else [pk]
        elif action == "remove":
            w.c.remove(cid, w.ann.id, pk)
            model = [p for p in model if p != pk]
        elif model:
            pk, to = rng.choice(model), rng.randint(-2, len(model) + 2)
            new = w.c.move(cid, w.ann.id, pk, to)
            model.remove(pk)
            model.insert(max(0, min(to, len(model))), pk)
            assert new == model.index(pk)
        assert order(w, cid) == [(pk, i) for i, pk in enumerate(model)]
    assert w.c.get(cid, w.ann.id).size == len(model)


def test_concurrent_adds_get_distinct_positions(world: World) -> None:
    w = world
    cid = w.c.create(w.ann.id, "Race").id
    with ThreadPoolExecutor(6) as pool:
        added = list(pool.map(lambda pk: w.c.add(cid, w.ann.id, pk), w.pks + w.pks))
    assert sorted(added) == [False] * 12 + [True] * 12  # each paper added once
    assert [pos for _, pos in order(w, cid)] == list(range(12))


def test_limits_have_clear_messages_and_controls_are_stripped(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    cases = [
        (lambda: w.c.create(w.ann.id, " \t\x00 "), "A collection needs a name \\(1 to 100 characters\\)"),
        (lambda: w.c.create(w.ann.id, "n" * 101), "name can be at most 100 characters \\(this one has 101\\)"),
        (lambda: w.c.create(w.ann.id, "ok", "d" * 1001), "description can be at most 1,000 characters"),
    ]
    for call, message in cases:
        with pytest.raises(BadInput, match=message):
            call()
    made = w.c.create(w.ann.id, "a\x00b\u202ec\x07 \n d" + "n" * 94, "x\x1b[31mred")
    assert made.name == "abc d" + "n" * 94 and made.description == "x[31mred"  # controls and the RLO gone (#16)
    with pytest.raises(BadInput, match="A note can be at most 1,000 characters \\(this one has 1,001\\)"):
        w.c.add(made.id, w.ann.id, w.pks[0], "x" * 1001)
    w.c.add(made.id, w.ann.id, w.pks[0], "y" * 1000)
    with pytest.raises(BadInput, match="A note can be at most"):
        w.c.set_note(made.id, w.ann.id, w.pks[0], "x" * 1001)
    with pytest.raises(BadInput, match="whole number"):
        w.c.move(made.id, w.ann.id, w.pks[0], "1")  # type: ignore[arg-type]
    for i in range(MAX_COLLECTIONS - 1):
        w.c.create(w.ann.id, f"c{i}")
    with pytest.raises(Conflict, match="You have 100 collections, the most one account can have"):
        w.c.create(w.ann.id, "one too many")
    w.c.create(w.bob.id, "bob's first")  # the limit is per account
    # 1,000 papers would need 1,000 imports; the rule is the same at any size, so a small limit tests it.
    monkeypatch.setattr(collections_module, "MAX_PAPERS", 3)
    for pk in w.pks[1:3]:
        w.c.add(made.id, w.ann.id, pk)
    with pytest.raises(Conflict, match="This collection has 3 papers, the most one can hold"):
        w.c.add(made.id, w.ann.id, w.pks[5])
    assert w.c.add(made.id, w.ann.id, w.pks[0], "re-adding is no addition") is False


def test_delete_removes_the_items_and_the_id(world: World) -> None:
    w = world
    cid = w.c.create(w.ann.id, "Gone soon").id
    w.c.add(cid, w.ann.id, w.pks[0])
    w.c.delete(cid, w.ann.id)
    with pytest.raises(NotFound):
        w.c.get(cid, w.ann.id)
    with pytest.raises(NotFound):
        w.c.delete(cid, w.ann.id)
    assert w.c.containing(w.ann.id, w.pks[0]) == set() and w.c.count() == 0


def test_hidden_papers_and_disabled_owners_are_not_shown(world: World) -> None:
    w = world
    cid = w.c.create(w.ann.id, "Mixed", public=True).id
    for pk in w.pks[:3]:
        w.c.add(cid, w.ann.id, pk)
    w.lib.papers.hide("2411.00002", w.admin.id, "spam")
    assert [pk for pk, _ in order(w, cid)] == [w.pks[0], w.pks[2]]
    assert w.c.get(cid, None).size == 2
    w.lib.accounts.set_disabled(w.ann)
    with pytest.raises(NotFound):
        w.c.get(cid, w.bob.id)
    assert w.c.for_user(w.ann.id, public_only=True) == []
    assert w.c.get(cid, w.ann.id).name == "Mixed"  # still there, for when the account is enabled again
