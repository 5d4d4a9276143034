"""Community votes in the database: the vote methods of both stores (mixins of ``SQLiteStore`` and ``PostgresStore``).

A vote is a row of ``votes (paper_pk, voter, created_at)``, one per paper and anonymous voter (migration 0002).
Triggers keep ``papers.votes_count`` equal to the paper's number of votes in the same transaction, so a paper's
upvotes (``papers.upvotes``, imported, plus ``votes_count``) are one column read away and always agree with the
votes, whichever process — web worker, another machine, ``db copy`` — wrote them. Nothing about votes is kept in
process memory. Each write is one transaction of the store's writer (``_write``), like every other write.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dailypapers.papers.models import utc
from dailypapers.papers.store.base import Vote

if TYPE_CHECKING:
    import sqlite3

    from dailypapers.papers.store.pg_vectors import Conn

MAX_VOTER_LENGTH = 128


def check_voter(voter: str) -> str:
    """``voter`` if it is a usable voter id (1 to :data:`MAX_VOTER_LENGTH` characters), else ``ValueError``."""
    if not isinstance(voter, str) or not 0 < len(voter) <= MAX_VOTER_LENGTH:
        raise ValueError(f"a voter id must be 1 to {MAX_VOTER_LENGTH} characters")
    return voter


class SQLiteVotes:
    """Vote methods on SQLite (a mixin of :class:`dailypapers.papers.store.sqlite.SQLiteStore`)."""

    if TYPE_CHECKING:  # supplied by SQLiteStore

        def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def set_vote(self, paper_id: str, voter: str, up: bool) -> int | None:
        check_voter(voter)
        with self._write() as conn:
            row = conn.execute("SELECT pk FROM papers WHERE id = ?", (paper_id,)).fetchone()
            if row is None:
                return None
            if up:
                conn.execute(
                    "INSERT INTO votes (paper_pk, voter, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (row[0], voter, datetime.now(UTC).isoformat()),
                )
            else:
                conn.execute("DELETE FROM votes WHERE paper_pk = ? AND voter = ?", (row[0], voter))
            return int(conn.execute("SELECT upvotes + votes_count FROM papers WHERE pk = ?", (row[0],)).fetchone()[0])

    def voted(self, voter: str, paper_pks: Sequence[int]) -> set[int]:
        pks = [int(pk) for pk in paper_pks]
        if not pks:
            return set()
        found: set[int] = set()
        with self._read() as conn:
            for i in range(0, len(pks), 500):
                chunk = pks[i : i + 500]
                sql = f"SELECT paper_pk FROM votes WHERE voter = ? AND paper_pk IN ({', '.join('?' * len(chunk))})"
                found.update(r[0] for r in conn.execute(sql, [voter, *chunk]))
        return found

    def count_votes(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM votes").fetchone()[0])

    def iter_votes(self, batch: int = 1000) -> Iterator[Vote]:
        last: tuple[int, str] = (0, "")
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    "SELECT v.paper_pk, v.voter, v.created_at, p.id FROM votes v JOIN papers p ON p.pk = v.paper_pk"
                    " WHERE (v.paper_pk, v.voter) > (?, ?) ORDER BY v.paper_pk, v.voter LIMIT ?",
                    (*last, batch),
                ).fetchall()
            if not rows:
                return
            last = (rows[-1][0], rows[-1][1])
            yield from (Vote(r[3], r[1], datetime.fromisoformat(r[2])) for r in rows)

    def save_votes(self, votes: Sequence[Vote]) -> int:
        if not votes:
            return 0
        added = 0
        with self._write() as conn:
            for vote in votes:
                added += conn.execute(
                    "INSERT INTO votes (paper_pk, voter, created_at) SELECT pk, ?, ? FROM papers WHERE id = ?"
                    " ON CONFLICT DO NOTHING",
                    (check_voter(vote.voter), _iso(vote.created_at), vote.paper_id),
                ).rowcount
        return added


class PgVotes:
    """Vote methods on PostgreSQL (a mixin of :class:`dailypapers.papers.store.postgres.PostgresStore`)."""

    if TYPE_CHECKING:  # supplied by PostgresStore

        def _write(self) -> AbstractContextManager[Conn]: ...

        def _rows(self, query: Any, params: Any = (), *, binary: bool = False) -> list[Any]: ...

    def set_vote(self, paper_id: str, voter: str, up: bool) -> int | None:
        check_voter(voter)
        with self._write() as conn:
            row = conn.execute("SELECT pk FROM papers WHERE id = %s", (paper_id,)).fetchone()
            if row is None:
                return None
            if up:
                conn.execute(
                    "INSERT INTO votes (paper_pk, voter) VALUES (%s, %s) ON CONFLICT DO NOTHING", (row["pk"], voter)
                )
            else:
                conn.execute("DELETE FROM votes WHERE paper_pk = %s AND voter = %s", (row["pk"], voter))
            total = conn.execute("SELECT upvotes + votes_count AS n FROM papers WHERE pk = %s", (row["pk"],))
            return int(total.fetchone()["n"])  # type: ignore[index]

    def voted(self, voter: str, paper_pks: Sequence[int]) -> set[int]:
        if not paper_pks:
            return set()
        rows = self._rows(
            "SELECT paper_pk FROM votes WHERE voter = %s AND paper_pk = ANY(%s)", (voter, [int(pk) for pk in paper_pks])
        )
        return {int(r["paper_pk"]) for r in rows}

    def count_votes(self) -> int:
        return int(self._rows("SELECT count(*) AS n FROM votes")[0]["n"])

    def iter_votes(self, batch: int = 1000) -> Iterator[Vote]:
        last: tuple[int, str] = (0, "")
        while True:
            rows = self._rows(
                "SELECT v.paper_pk, v.voter, v.created_at, p.id FROM votes v JOIN papers p ON p.pk = v.paper_pk"
                " WHERE (v.paper_pk, v.voter) > (%s, %s) ORDER BY v.paper_pk, v.voter LIMIT %s",
                (*last, batch),
            )
            if not rows:
                return
            last = (rows[-1]["paper_pk"], rows[-1]["voter"])
            yield from (Vote(r["id"], r["voter"], r["created_at"]) for r in rows)

    def save_votes(self, votes: Sequence[Vote]) -> int:
        if not votes:
            return 0
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO votes (paper_pk, voter, created_at)"
                " SELECT p.pk, t.voter, t.created_at FROM unnest(%s::text[], %s::text[], %s::timestamptz[])"
                " AS t(id, voter, created_at) JOIN papers p ON p.id = t.id ON CONFLICT DO NOTHING",
                (
                    [v.paper_id for v in votes],
                    [check_voter(v.voter) for v in votes],
                    [utc(v.created_at) for v in votes],
                ),
            )
            return max(cur.rowcount, 0)


def _iso(moment: datetime) -> str:
    return utc(moment).isoformat()  # type: ignore[union-attr]
