"""Scale-out: several server processes on one database serve it consistently (nothing a worker needs lives in another
worker's memory).

Two ``dailypapers serve`` processes run on the same database — one SQLite file, or one PostgreSQL database — and a
vote cast through one is seen through the other at once: in the paper's upvotes, in the daily list sorted by
upvotes and in the vote buttons. A session and CSRF token made at one server are valid at the other: sessions live
in the database, and the signing key is generated once and kept there (both servers start without one and race to
create it). Then one server with ``--workers 2`` is used over fresh connections, which the kernel spreads over its
workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from dailypapers.config import Config
from dailypapers.library import SECRET_META_KEY, Library
from dailypapers.papers.store import open_store
from dailypapers.web.security.cookies import CSRF_COOKIE, SESSION_COOKIE
from tests.demo import demo_embedder, running_server
from tests.web.small_library import ADAM, LORA, SMALL_DAY, STRINGS, api_vote, build_small, buttons, sign_in, token_of

pytestmark = pytest.mark.slow  # real servers, two or three a test

VOTERS = 16


@pytest.fixture
def shared(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Config]:
    """One small library on ``backend`` (no signing key yet), for several servers to share."""
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    config = Config(password_hash="cheapest", data_dir=tmp_path, database_url=url)
    build_small(config, demo_embedder()).close()
    yield config


def bearer_tokens(config: Config, count: int) -> list[str]:
    """API tokens of ``count`` new users (made through the library: a password hash costs ~50 ms each)."""
    lib = Library(config)
    try:
        users = [lib.accounts.create_user(f"v{i}", f"v{i}@example.org", "correct horse battery") for i in range(count)]
        return [lib.accounts.create_token(user, "load")[0] for user in users]
    finally:
        lib.close()


def by_upvotes(client: httpx.Client) -> list[tuple[str, int]]:
    day = client.get(f"/api/days/{SMALL_DAY}", params={"sort": "upvotes"}).json()
    return [(p["id"], p["upvotes"]) for p in day["papers"]]


def test_a_vote_cast_through_one_server_is_seen_through_the_other(shared: Config) -> None:
    with (
        running_server(shared) as base_a,
        running_server(shared) as base_b,
        httpx.Client(base_url=base_a, timeout=60) as a,
        httpx.Client(base_url=base_b, timeout=60) as b,
    ):
        with ThreadPoolExecutor(2) as pool:  # both servers need the signing key at the same moment
            list(pool.map(lambda c: c.get("/api/votes").json()["csrf_token"], (a, b)))
        store = open_store(shared)
        try:
            assert store.meta.get(SECRET_META_KEY)  # created once, by whichever server came first
        finally:
            store.close()
        lib = Library(shared)
        try:
            token_a = token_of(sign_in(a, lib, "ann"))
            sign_in(b, lib, "bob")
        finally:
            lib.close()

        assert api_vote(a, ADAM, True, token_a).json()["upvotes"] == 1
        assert b.get(f"/api/papers/{ADAM}").json()["upvotes"] == 1  # the HF-compatible API of B
        voters = bearer_tokens(shared, VOTERS + 3)
        for n, secret in enumerate(voters[:3]):  # three voters through A lift Strings (3 imported) above LoRA (5)
            vote = api_vote(a, STRINGS, True, None, Authorization=f"Bearer {secret}")
            assert vote.json()["upvotes"] == 4 + n
        assert by_upvotes(b) == [(STRINGS, 6), (LORA, 5), (ADAM, 1)]
        assert buttons(b.get(f"/papers/date/{SMALL_DAY}?sort=upvotes").text) == {
            STRINGS: (6, False),
            LORA: (5, False),
            ADAM: (1, False),  # B's own user has not voted
        }

        # A's session and token, at B: recognised (same database, same key), pressed, and can withdraw it there.
        b.cookies.clear()
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            b.cookies.set(name, a.cookies[name])
        assert buttons(b.get(f"/papers/{ADAM}").text) == {ADAM: (1, True)}
        assert api_vote(b, ADAM, True, token_a).json()["upvotes"] == 1  # idempotent across servers
        assert api_vote(b, ADAM, False, token_a).json()["upvotes"] == 0
        assert a.get(f"/api/papers/{ADAM}").json()["upvotes"] == 0

        # Many voters at once, through both servers: every vote counted once.
        def vote(i: int) -> int:
            with httpx.Client(base_url=(base_a, base_b)[i % 2], timeout=60) as voter:
                response = api_vote(voter, LORA, True, None, Authorization=f"Bearer {voters[3 + i]}")
                assert response.status_code == 200, response.text
                return int(response.json()["upvotes"])

        with ThreadPoolExecutor(8) as pool:
            totals = list(pool.map(vote, range(VOTERS)))
        assert max(totals) == 5 + VOTERS
        assert by_upvotes(a)[0] == by_upvotes(b)[0] == (LORA, 5 + VOTERS)


def test_one_server_with_two_workers(shared: Config) -> None:
    with running_server(shared, workers=2) as base:
        fresh = {"Connection": "close"}  # every request on a new connection: the workers take turns
        with httpx.Client(base_url=base, timeout=60, headers=fresh) as voter:
            lib = Library(shared)
            try:
                token = token_of(sign_in(voter, lib, "ann"))
            finally:
                lib.close()
            for _ in range(6):  # the session and token are valid in whichever worker answers
                assert api_vote(voter, ADAM, True, token).json()["upvotes"] == 1
                assert voter.get(f"/api/papers/{ADAM}").json()["upvotes"] == 1
            assert buttons(voter.get("/").text)[ADAM] == (1, True)
            assert api_vote(voter, ADAM, False, token).json()["upvotes"] == 0
        with httpx.Client(base_url=base, timeout=60, headers=fresh) as other:
            assert all(other.get(f"/api/papers/{ADAM}").json()["upvotes"] == 0 for _ in range(6))
