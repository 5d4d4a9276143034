"""The accounts service on both backends: sign-up modes and roles, log-in, rehashing, sessions, tokens, deletion."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from dailypapers.accounts.service import Accounts
from dailypapers.config import Config
from dailypapers.db.schema import sessions, users
from dailypapers.errors import BadInput, Conflict, Forbidden, NotFound
from dailypapers.library import Library
from dailypapers.papers.models import make_paper

PASSWORD = "correct horse battery"


@pytest.fixture
def lib(db_config: Config) -> Iterator[Library]:
    library = Library(db_config)
    yield library
    library.close()


def accounts(lib: Library, signup: str) -> Accounts:
    return Accounts(lib.db, signup=signup)


def test_first_user_is_admin_and_signup_modes_hold(lib: Library) -> None:
    invite_only = accounts(lib, "invite")
    first = invite_only.create_user("Ada", "Ada@Example.org", PASSWORD, via_signup=True)  # no user yet: allowed
    assert (first.username, first.email, first.role) == ("ada", "ada@example.org", "admin")
    with pytest.raises(Forbidden, match="needs an invite"):
        invite_only.create_user("bob", "bob@example.org", PASSWORD, via_signup=True)
    code = invite_only.create_invite(first)
    bob = invite_only.create_user("bob", "bob@example.org", PASSWORD, invite=code, via_signup=True)
    assert bob.role == "member"
    with pytest.raises(Forbidden, match="unknown, used or expired"):  # one use only; nothing stored half
        invite_only.create_user("carol", "carol@example.org", PASSWORD, invite=code, via_signup=True)
    assert [u.username for u in invite_only.list_users()] == ["ada", "bob"]
    with pytest.raises(Forbidden, match="Only admins"):
        invite_only.create_invite(bob)
    with pytest.raises(Forbidden, match="closed"):
        accounts(lib, "closed").create_user("dave", "dave@example.org", PASSWORD, via_signup=True)
    assert accounts(lib, "open").create_user("erin", "erin@example.org", PASSWORD, via_signup=True).role == "member"
    assert accounts(lib, "closed").create_user("cli", "cli@example.org", PASSWORD, admin=True).is_admin


@pytest.mark.parametrize(
    ("username", "email", "password", "error"),
    [
        ("-bad", "x@example.org", PASSWORD, "A username is"),
        ("x" * 41, "x@example.org", PASSWORD, "A username is"),
        ("ok", "not-an-address", PASSWORD, "email address"),
        ("ok", "x@example.org", "short", "at least 8"),
        ("okname", "x@example.org", "okname", "at least 8"),
        ("longername", "x@example.org", "LongerName", "must not be the username"),
        ("ok", "x@example.org", "p" * 1025, "at most 1024"),
        ("ok", "x@example.org", "password", "too easy to guess: This is a top-10 common password"),  # issue 21 #15
        ("ok", "x@example.org", "12345678", "too easy to guess"),
        ("ok", "x@example.org", " " * 8, "too easy to guess: Repeats"),
        ("ok", "X@example.org", "x@example.ORG", "must not be the email address"),
        ("ok", "x@example.org", "x@example.org!", "too easy to guess"),  # the address is zxcvbn's context
        ("alberta", "x@example.org", "Alberta1984", "too easy to guess"),
        ("ok", "x@example.org", "correct horse battery" * 4, ""),  # past zxcvbn's 72 characters: still checked
    ],
)
def test_bad_sign_up_fields_are_refused_with_a_reason(
    lib: Library, username: str, email: str, password: str, error: str
) -> None:
    if not error:
        assert lib.accounts.create_user(username, email, password).username == username
        return
    with pytest.raises(BadInput, match=error):
        lib.accounts.create_user(username, email, password)
    assert lib.accounts.user_count() == 0


def test_taken_names_and_addresses_ignore_case(lib: Library) -> None:
    lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    with pytest.raises(Conflict, match="username is taken"):
        lib.accounts.create_user("ADA", "other@example.org", PASSWORD)
    with pytest.raises(Conflict, match="email is taken"):
        lib.accounts.create_user("other", "ADA@example.org", PASSWORD)


def test_log_in_by_name_or_email_one_message_for_every_failure(lib: Library) -> None:
    ada = lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    assert lib.accounts.authenticate("ADA", PASSWORD) == ada
    assert lib.accounts.authenticate("ada@example.org", PASSWORD) == ada
    for login, password in [("ada", "wrong password"), ("nobody", PASSWORD), ("", "")]:
        with pytest.raises(Forbidden, match=r"^Wrong username or password\.$"):
            lib.accounts.authenticate(login, password)
    lib.accounts.set_disabled(ada)
    with pytest.raises(Forbidden, match="disabled"):
        lib.accounts.authenticate("ada", PASSWORD)


def test_an_outdated_hash_is_replaced_at_log_in(db_config: Config) -> None:
    """Under the default profile (the suite's other tests hash with the cheapest one)."""
    lib = Library(dataclasses.replace(db_config, password_hash="rfc9106-low-memory"))
    ada = lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with lib.db.write() as conn:
        conn.execute(update(users).where(users.c.id == ada.id).values(password_hash=weak))
    lib.accounts.authenticate("ada", PASSWORD)
    with lib.db.read() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.id == ada.id)).scalar_one()
    assert stored != weak and "m=65536" in stored  # today's parameters (argon2-cffi's RFC 9106 default)
    assert lib.accounts.authenticate("ada", PASSWORD) == ada
    lib.close()


def test_sessions_expire_end_and_rotate(lib: Library) -> None:
    ada = lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    first = lib.accounts.start_session(ada, "Firefox")
    found = lib.accounts.session_user(first)
    assert found is not None and found[1] == ada and found[0].user_agent == "Firefox"
    second = lib.accounts.start_session(ada, "Chromium", replacing=first)  # log-in again from that browser
    assert lib.accounts.session_user(first) is None and lib.accounts.session_user(second) is not None
    with lib.db.write() as conn:  # a session unused past its life is over
        past = datetime.now(UTC) - timedelta(seconds=1)
        conn.execute(update(sessions).values(expires_at=past))
    assert lib.accounts.session_user(second) is None
    a, b, c = (lib.accounts.start_session(ada) for _ in range(3))
    kept = lib.accounts.session_user(a)
    assert kept is not None
    lib.accounts.set_password(ada, "a new pass phrase", current=PASSWORD, keep_session=kept[0].id)
    assert lib.accounts.session_user(a) is not None
    assert lib.accounts.session_user(b) is None and lib.accounts.session_user(c) is None
    with pytest.raises(Forbidden, match="current password is wrong"):
        lib.accounts.set_password(ada, "another pass phrase", current=PASSWORD)
    assert lib.accounts.end_sessions(ada) == 1 and lib.accounts.session_user(a) is None
    assert lib.accounts.session_user("") is None and lib.accounts.session_user("x" * 1000) is None


def test_tokens_are_hashed_shown_once_and_revocable(lib: Library) -> None:
    ada = lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    secret, token = lib.accounts.create_token(ada, "  laptop   script ")
    assert token.name == "laptop script" and secret.startswith("dp_")
    with lib.db.read() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_tokens").scalars().all()
    assert stored and secret not in stored  # only the hash
    assert lib.accounts.token_user(secret) == ada
    assert lib.accounts.tokens(ada)[0].last_used_at is not None
    lib.accounts.revoke_token(ada, token.id)
    assert lib.accounts.token_user(secret) is None
    with pytest.raises(NotFound):
        lib.accounts.revoke_token(ada, "tok_nope")
    with pytest.raises(BadInput):
        lib.accounts.create_token(ada, "\x1b[31m")
    again, _ = lib.accounts.create_token(ada, "second")
    lib.accounts.set_disabled(ada)
    assert lib.accounts.token_user(again) is None


def test_a_password_change_revokes_every_token(lib: Library) -> None:
    """Issue 21 #22: whoever knew the old password could have made a token; it must not outlive the change."""
    ada = lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    bob = lib.accounts.create_user("bob", "bob@example.org", PASSWORD)
    old, _ = lib.accounts.create_token(ada, "laptop")
    revoked, _ = lib.accounts.create_token(ada, "revoked before")
    lib.accounts.revoke_token(ada, lib.accounts.tokens(ada)[0].id)
    bobs, _ = lib.accounts.create_token(bob, "bob's")
    assert lib.accounts.set_password(ada, "a new pass phrase", current=PASSWORD) == 1  # the one still active
    assert lib.accounts.token_user(old) is None and lib.accounts.token_user(revoked) is None
    assert all(t.revoked_at is not None for t in lib.accounts.tokens(ada))
    assert lib.accounts.token_user(bobs) == bob  # only ada's
    fresh, _ = lib.accounts.create_token(ada, "after the change")
    assert lib.accounts.token_user(fresh) == ada
    assert lib.accounts.set_password(ada, "yet another pass phrase") == 1  # the CLI's reset (no current) too
    assert lib.accounts.token_user(fresh) is None


def test_deleting_an_account_takes_its_sessions_tokens_and_votes(lib: Library) -> None:
    lib.init()
    lib.store.upsert_papers([make_paper(source="jsonl", arxiv_id="2401.00001", title="A paper", abstract="Text.",
                                        added_at=date(2024, 1, 8))])  # fmt: skip
    ada = lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    bob = lib.accounts.create_user("bob", "bob@example.org", PASSWORD)
    session = lib.accounts.start_session(ada)
    secret, _ = lib.accounts.create_token(ada, "t")
    assert lib.votes.cast("2401.00001", ada.voter, True) == 1
    assert lib.votes.cast("2401.00001", bob.voter, True) == 2
    with pytest.raises(Forbidden):
        lib.accounts.delete(ada, "wrong password")
    lib.accounts.delete(ada, PASSWORD)
    assert lib.accounts.session_user(session) is None and lib.accounts.token_user(secret) is None
    assert [u.username for u in lib.accounts.list_users()] == ["bob"]
    paper = lib.store.get_paper("2401.00001")
    assert paper is not None and paper.upvotes == 1


def test_users_are_frozen_records() -> None:
    from dailypapers.accounts.models import User

    user = User("id", "ada", "ada@example.org", "member", False, datetime.now(UTC))
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.role = "admin"  # type: ignore[misc]
