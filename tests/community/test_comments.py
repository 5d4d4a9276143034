"""The comments service (``dailypapers.community.comments``) on each backend: threads one level deep, edits and
deletions of one's own comments only, placeholders, hiding and unhiding, visible counts in one query, limits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from dailypapers.accounts.models import User
from dailypapers.community.comments import MAX_BODY, Comments, check_body
from dailypapers.config import Config
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import make_paper

DAY = date(2026, 11, 20)
PASSWORD = "correct horse battery"


@dataclass
class World:
    lib: Library
    comments: Comments
    admin: User
    ann: User
    bob: User
    alpha: int  # paper keys
    beta: int
    gamma: int


@pytest.fixture
def world(db_config: Config) -> Iterator[World]:
    lib = Library(db_config)
    rows = [("2411.00001", "Alpha"), ("2411.00002", "Beta"), ("hep-th/9901001", "Gamma")]
    lib.ingest(
        [make_paper(arxiv_id=i, title=t, abstract=f"About {t}.", source="hf") for i, t in rows],
        added_at=DAY,
        progress=False,
        index=False,
    )
    pks = {}
    for pid, _ in rows:
        found = lib.papers.get(pid)
        assert found is not None and found.pk is not None
        pks[pid] = found.pk
    admin = lib.accounts.create_user("root", "root@example.org", PASSWORD)  # the first user: an admin
    ann = lib.accounts.create_user("ann", "ann@example.org", PASSWORD)
    bob = lib.accounts.create_user("bob", "bob@example.org", PASSWORD)
    assert admin.is_admin and not ann.is_admin
    yield World(lib, lib.comments, admin, ann, bob, *pks.values())
    lib.close()


def test_threads_are_one_level_deep_and_in_order(world: World) -> None:
    c = world.comments
    first = c.add(world.alpha, world.ann.id, "First!")
    second = c.add(world.alpha, world.bob.id, "Second")
    reply = c.add(world.alpha, world.bob.id, "A reply", parent_id=first.id)
    deeper = c.add(world.alpha, world.ann.id, "A reply to the reply", parent_id=reply.id)
    assert reply.parent_id == first.id and deeper.parent_id == first.id  # attached to the top-level comment
    assert first.author == "ann" and reply.author == "bob" and first.paper_id == "2411.00001"
    assert first.created_at.tzinfo is not None and first.edited_at is None and first.visible
    threads = c.for_paper(world.alpha)
    assert [(t.comment.body, [r.body for r in t.replies]) for t in threads] == [
        ("First!", ["A reply", "A reply to the reply"]),
        ("Second", []),
    ]
    assert second.id > first.id  # sortable ids: key order is creation order
    assert c.for_paper(world.beta) == []
    assert c.get(reply.id) == reply and c.get("nope") is None and c.get("x" * 1000) is None


def test_a_reply_must_answer_a_comment_of_the_same_paper(world: World) -> None:
    c = world.comments
    on_alpha = c.add(world.alpha, world.ann.id, "On alpha")
    with pytest.raises(NotFound, match="not on this paper"):
        c.add(world.beta, world.bob.id, "Wrong paper", parent_id=on_alpha.id)
    with pytest.raises(NotFound, match="not on this paper"):
        c.add(world.alpha, world.bob.id, "Unknown parent", parent_id="0000000000000000000000")
    with pytest.raises(NotFound, match="no such paper"):
        c.add(987654, world.bob.id, "Unknown paper")
    c.hide(on_alpha.id, world.admin.id, "spam")
    with pytest.raises(Conflict, match="cannot be replied to"):
        c.add(world.alpha, world.bob.id, "To a hidden one", parent_id=on_alpha.id)


def test_bodies_are_checked_and_cleaned(world: World) -> None:
    c = world.comments
    for empty in ("", "   ", "\n\t\n", "\x00\x01"):
        with pytest.raises(BadInput, match="cannot be empty"):
            c.add(world.alpha, world.ann.id, empty)
    with pytest.raises(BadInput, match="at most 5,000 characters; this one has 5,001"):
        c.add(world.alpha, world.ann.id, "x" * (MAX_BODY + 1))
    assert c.add(world.alpha, world.ann.id, "y" * MAX_BODY).body == "y" * MAX_BODY
    made = c.add(world.alpha, world.ann.id, "  line one\r\nline\x00 two\x1b[31m\r\n\r\n* item  \n")
    assert made.body == "line one\nline two[31m\n\n* item"  # controls gone, newlines kept for Markdown
    assert check_body("\ud800 ok") == "\N{REPLACEMENT CHARACTER} ok"
    with pytest.raises(BadInput):
        c.edit(made.id, world.ann.id, " ")


def test_only_the_author_edits_or_deletes(world: World) -> None:
    c = world.comments
    mine = c.add(world.alpha, world.ann.id, "Mine")
    with pytest.raises(Forbidden, match="Only its author"):
        c.edit(mine.id, world.bob.id, "Hijacked")
    with pytest.raises(Forbidden):
        c.edit(mine.id, world.admin.id, "Admins hide, they do not rewrite")
    with pytest.raises(Forbidden):
        c.delete(mine.id, world.bob.id)
    with pytest.raises(NotFound):
        c.edit("0000000000000000000000", world.ann.id, "x")
    assert c.edit(mine.id, world.ann.id, "Mine").edited_at is None  # the same text: not an edit
    edited = c.edit(mine.id, world.ann.id, "Mine, *edited*")
    assert edited.body == "Mine, *edited*" and edited.edited_at is not None and edited.created_at == mine.created_at
    c.delete(mine.id, world.ann.id)
    assert c.get(mine.id) is None and c.for_paper(world.alpha) == []
    with pytest.raises(NotFound):
        c.delete(mine.id, world.ann.id)


def test_deleting_a_comment_with_replies_leaves_a_placeholder(world: World) -> None:
    c = world.comments
    top = c.add(world.alpha, world.ann.id, "Top")
    r1 = c.add(world.alpha, world.bob.id, "Reply 1", parent_id=top.id)
    r2 = c.add(world.alpha, world.bob.id, "Reply 2", parent_id=top.id)
    c.delete(top.id, world.ann.id)
    [thread] = c.for_paper(world.alpha)
    assert thread.comment.deleted and thread.comment.body == "" and not thread.comment.visible
    assert [r.body for r in thread.replies] == ["Reply 1", "Reply 2"]
    assert c.counts([world.alpha]) == {world.alpha: 2}
    with pytest.raises(NotFound):
        c.edit(top.id, world.ann.id, "Back")
    with pytest.raises(Conflict):
        c.add(world.alpha, world.bob.id, "To a deleted one", parent_id=r1.id)
    c.delete(r1.id, world.bob.id)
    assert len(c.for_paper(world.alpha)) == 1
    c.delete(r2.id, world.bob.id)  # the last reply takes the placeholder with it
    assert c.for_paper(world.alpha) == [] and c.get(top.id) is None


def test_hiding_and_unhiding(world: World) -> None:
    c = world.comments
    bad = c.add(world.alpha, world.bob.id, "<script>alert(1)</script> buy now")
    fine = c.add(world.alpha, world.ann.id, "Fine", parent_id=bad.id)
    hidden = c.hide(bad.id, world.admin.id, "  spam\x00 link ")
    assert hidden.hidden and hidden.hidden_by == "root" and hidden.hidden_reason == "spam link"
    assert c.hide(bad.id, world.ann.id, "again").hidden_by == "root"  # the first record is kept
    public = c.for_paper(world.alpha)[0]
    assert public.comment.hidden and public.comment.body == "" and public.comment.hidden_reason == ""
    assert public.comment.hidden_by is None and [r.id for r in public.replies] == [fine.id]
    admin_view = c.for_paper(world.alpha, include_hidden=True)[0].comment
    assert admin_view.body.startswith("<script>") and admin_view.hidden_reason == "spam link"
    with pytest.raises(Conflict, match="hid this comment"):
        c.edit(bad.id, world.bob.id, "Innocent now")
    [row] = c.hidden()
    assert row.comment.id == bad.id and row.paper_title == "Alpha" and row.comment.hidden_by == "root"
    with pytest.raises(BadInput, match="at most 500"):
        c.hide(fine.id, world.admin.id, "r" * 501)
    with pytest.raises(NotFound):
        c.hide("0000000000000000000000", world.admin.id)
    c.unhide(bad.id)
    assert c.get(bad.id) == bad and c.hidden() == []
    with pytest.raises(NotFound):
        c.unhide("0000000000000000000000")


def test_counts_cover_visible_comments_in_one_call(world: World) -> None:
    c = world.comments
    assert c.counts([]) == {}
    a1 = c.add(world.alpha, world.ann.id, "a1")
    c.add(world.alpha, world.bob.id, "a2", parent_id=a1.id)
    b1 = c.add(world.beta, world.bob.id, "b1")
    c.add(world.beta, world.ann.id, "b2")
    gone = c.add(world.gamma, world.ann.id, "g1")
    assert c.counts([world.alpha, world.beta, world.gamma]) == {world.alpha: 2, world.beta: 2, world.gamma: 1}
    c.hide(b1.id, world.admin.id)
    c.delete(gone.id, world.ann.id)
    assert c.counts([world.gamma, world.beta, world.alpha, world.beta]) == {
        world.alpha: 2,
        world.beta: 1,
        world.gamma: 0,
    }
    many = [world.alpha, *range(100_000, 101_200)]  # more keys than one IN list holds
    counted = c.counts(many)
    assert counted[world.alpha] == 2 and len(counted) == len(many)


def test_a_deleted_user_takes_their_comments_along(world: World) -> None:
    c = world.comments
    c.add(world.alpha, world.bob.id, "Bob's")
    hidden = c.add(world.alpha, world.ann.id, "Ann's")
    c.hide(hidden.id, world.bob.id, "by bob")  # bob as the hider, to see the record survive him
    world.lib.accounts.delete(world.bob, PASSWORD)
    [thread] = c.for_paper(world.alpha, include_hidden=True)
    assert thread.comment.author == "ann" and thread.comment.hidden and thread.comment.hidden_by is None


def test_a_deleted_user_leaves_the_replies_of_others_under_a_placeholder(world: World) -> None:
    """Issue 21 #19: deleting an account deleted other people's replies to its comments (ON DELETE CASCADE)."""
    c = world.comments
    answered = c.add(world.alpha, world.bob.id, "Bob asks")
    kept = c.add(world.alpha, world.ann.id, "Ann answers", parent_id=answered.id)
    c.add(world.alpha, world.bob.id, "Bob thanks ann", parent_id=answered.id)
    c.add(world.beta, world.bob.id, "Bob alone")  # no replies: goes with him
    c.add(world.beta, world.bob.id, "to himself", parent_id=c.add(world.beta, world.bob.id, "Bob talks").id)
    anns = c.add(world.gamma, world.ann.id, "Ann's")
    c.add(world.gamma, world.bob.id, "Bob replies to ann", parent_id=anns.id)
    old = c.add(world.gamma, world.ann.id, "Ann's old one")
    c.add(world.gamma, world.bob.id, "the only reply", parent_id=old.id)
    c.delete(old.id, world.ann.id)  # a placeholder while bob's reply is there
    world.lib.accounts.delete(world.bob, PASSWORD)

    [thread] = c.for_paper(world.alpha)
    assert thread.comment.deleted and thread.comment.body == "" and thread.comment.author == "[deleted]"
    assert [r.id for r in thread.replies] == [kept.id] and thread.replies[0].body == "Ann answers"
    assert c.for_paper(world.beta) == []
    [gamma] = c.for_paper(world.gamma)  # bob's replies went, and with the last one ann's old placeholder
    assert gamma.comment.id == anns.id and gamma.replies == []
    assert c.counts([world.alpha, world.beta, world.gamma]) == {world.alpha: 1, world.beta: 0, world.gamma: 1}
    with pytest.raises(Conflict):  # a placeholder takes no new replies, like any deleted comment
        c.add(world.alpha, world.ann.id, "Anyone?", parent_id=answered.id)

    # the keeper of placeholders is nobody's account: not listed, not counted, not found, no log-in
    accounts = world.lib.accounts
    assert [u.username for u in accounts.list_users()] == ["root", "ann"] and accounts.user_count() == 2
    with pytest.raises(NotFound):
        accounts.get("[deleted]")
    with pytest.raises(Forbidden):
        accounts.authenticate("[deleted]", "")
    root = c.add(world.beta, world.admin.id, "Root's")
    c.add(world.beta, world.ann.id, "Ann's reply to root", parent_id=root.id)
    accounts.delete(world.ann, PASSWORD)  # a second deletion: the same keeper; bob's placeholder lost its last reply
    assert c.for_paper(world.alpha) == [] and c.for_paper(world.gamma) == []
    assert [(t.comment.id, t.replies) for t in c.for_paper(world.beta)] == [(root.id, [])]
