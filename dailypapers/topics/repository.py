"""Reads and writes of the topic tables (``topic_points``, ``topic_clusters``, ``paper_summaries``,
``paper_keyphrases``; migration 0010), written once for both backends with SQLAlchemy Core.

Hidden papers (:mod:`dailypapers.papers.hidden`) are left out of every read that a page shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import delete, func, select

from dailypapers.db.engine import Database, key_chunks
from dailypapers.db.schema import paper_keyphrases, paper_summaries, papers, topic_clusters, topic_points
from dailypapers.papers.hidden import not_hidden

INSERT_BATCH = 5000


@dataclass(frozen=True)
class Cluster:
    """A topic of the current layout: its id, label terms, size and label position."""

    id: int
    terms: list[str]
    size: int
    x: float
    y: float

    @property
    def label(self) -> str:
        return ", ".join(self.terms[:3])


@dataclass(frozen=True)
class Points:
    """Every visible paper on the map, column-wise (row i of each list is one paper)."""

    pks: list[int]
    ids: list[str]
    titles: list[str]
    x: list[float]
    y: list[float]
    cluster: list[int]
    day: list[str]
    category: list[str]


def _insert_many(conn, table, rows: Sequence[dict]) -> None:  # type: ignore[no-untyped-def]
    for i in range(0, len(rows), INSERT_BATCH):
        conn.execute(table.insert(), list(rows[i : i + INSERT_BATCH]))


class TopicStore:
    """The topic tables of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the map --------------------------------------------------------------------------------------------------
    def generation(self) -> int:
        """The current layout's generation (0: never computed)."""
        with self.db.read() as conn:
            return int(conn.execute(select(func.max(topic_clusters.c.generation))).scalar() or 0)

    def replace_layout(self, points: Sequence[dict], clusters: Sequence[dict]) -> None:
        """The whole map at once (a recomputation): every point and cluster replaced in one transaction."""
        with self.db.write() as conn:
            conn.execute(delete(topic_points))
            conn.execute(delete(topic_clusters))
            _insert_many(conn, topic_points, points)
            _insert_many(conn, topic_clusters, clusters)

    def add_points(self, points: Sequence[dict]) -> None:
        """Points of papers placed by their neighbours (new ones; a re-placed paper's old row is replaced)."""
        with self.db.write() as conn:
            for chunk in key_chunks(p["paper_pk"] for p in points):
                conn.execute(delete(topic_points).where(topic_points.c.paper_pk.in_(chunk)))
            _insert_many(conn, topic_points, points)
            for cluster, size in self._sizes(conn).items():
                conn.execute(topic_clusters.update().where(topic_clusters.c.id == cluster).values(size=size))

    @staticmethod
    def _sizes(conn) -> dict[int, int]:  # type: ignore[no-untyped-def]
        query = select(topic_points.c.cluster, func.count()).group_by(topic_points.c.cluster)
        return {int(c): int(n) for c, n in conn.execute(query)}

    def placed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(pks int64, xy float32[n, 2], clusters int32)`` of every placed paper, hidden ones too (they stay
        neighbours), in key order."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(topic_points.c.paper_pk, topic_points.c.x, topic_points.c.y, topic_points.c.cluster).order_by(
                    topic_points.c.paper_pk
                )
            ).all()
        pks = np.array([r[0] for r in rows], np.int64)
        xy = np.array([(r[1], r[2]) for r in rows], np.float32).reshape(-1, 2)
        return pks, xy, np.array([r[3] for r in rows], np.int32)

    def clusters(self) -> list[Cluster]:
        """The current clusters, largest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(topic_clusters).order_by(topic_clusters.c.size.desc(), topic_clusters.c.id))
            return [Cluster(r.id, r.terms.split("; ") if r.terms else [], r.size, r.x, r.y) for r in rows]

    def points(self) -> Points:
        """Every visible placed paper with its id and title, in key order (the map's one query)."""
        t = topic_points
        query = (
            select(t.c.paper_pk, papers.c.id, papers.c.title, t.c.x, t.c.y, t.c.cluster, t.c.day, t.c.category)
            .join(papers, papers.c.pk == t.c.paper_pk)
            .where(not_hidden(t.c.paper_pk))
            .order_by(t.c.paper_pk)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return (
            Points(*(list(column) for column in zip(*rows, strict=True))) if rows else Points(*([] for _ in range(8)))
        )

    def cluster_days(self, since: str) -> list[tuple[str, int]]:
        """``(day, cluster)`` of every visible point added on or after ``since`` (YYYY-MM-DD)."""
        query = select(topic_points.c.day, topic_points.c.cluster).where(
            topic_points.c.day >= since, not_hidden(topic_points.c.paper_pk)
        )
        with self.db.read() as conn:
            return [(str(d), int(c)) for d, c in conn.execute(query)]

    def clusters_of(self, pks: Iterable[int]) -> dict[int, int]:
        """``{paper key: cluster}`` for those of ``pks`` that are placed."""
        found: dict[int, int] = {}
        with self.db.read() as conn:
            for chunk in key_chunks(pks):
                query = select(topic_points.c.paper_pk, topic_points.c.cluster).where(
                    topic_points.c.paper_pk.in_(chunk)
                )
                found.update((int(pk), int(c)) for pk, c in conn.execute(query))
        return found

    # -- key phrases and key sentences ----------------------------------------------------------------------------
    def summarised(self, model: str) -> dict[int, str]:
        """``{paper key: text hash}`` of the papers whose key phrases ``model`` computed."""
        query = select(paper_summaries.c.paper_pk, paper_summaries.c.text_hash).where(paper_summaries.c.model == model)
        with self.db.read() as conn:
            return {int(pk): str(h) for pk, h in conn.execute(query)}

    def save_phrases(self, rows: Sequence[tuple[int, list[str], str, str, str, str]]) -> None:
        """``(paper key, phrases, sentence, model, text hash, day)`` per paper; earlier results replaced."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            for chunk in key_chunks(r[0] for r in rows):
                conn.execute(delete(paper_keyphrases).where(paper_keyphrases.c.paper_pk.in_(chunk)))
                conn.execute(delete(paper_summaries).where(paper_summaries.c.paper_pk.in_(chunk)))
            summaries = [
                dict(paper_pk=pk, sentence=s, model=m, text_hash=h, day=d, computed_at=now)
                for pk, _, s, m, h, d in rows
            ]
            phrases = [dict(paper_pk=pk, rank=i, phrase=p) for pk, ps, *_ in rows for i, p in enumerate(ps)]
            _insert_many(conn, paper_summaries, summaries)
            _insert_many(conn, paper_keyphrases, phrases)

    def phrases_of(self, pks: Iterable[int]) -> dict[int, tuple[list[str], str]]:
        """``{paper key: (key phrases best first, key sentence)}`` for those of ``pks`` that have them."""
        found: dict[int, tuple[list[str], str]] = {}
        with self.db.read() as conn:
            for chunk in key_chunks(pks):
                for pk, sentence in conn.execute(
                    select(paper_summaries.c.paper_pk, paper_summaries.c.sentence).where(
                        paper_summaries.c.paper_pk.in_(chunk)
                    )
                ):
                    found[int(pk)] = ([], str(sentence))
                query = (
                    select(paper_keyphrases.c.paper_pk, paper_keyphrases.c.phrase)
                    .where(paper_keyphrases.c.paper_pk.in_(chunk))
                    .order_by(paper_keyphrases.c.paper_pk, paper_keyphrases.c.rank)
                )
                for pk, phrase in conn.execute(query):
                    found.setdefault(int(pk), ([], ""))[0].append(str(phrase))
        return found

    def with_phrase(self, phrase: str, limit: int) -> list[int]:
        """Keys of visible papers that have ``phrase`` (exactly, lower-cased) among their key phrases, newest
        first."""
        query = (
            select(paper_keyphrases.c.paper_pk)
            .where(paper_keyphrases.c.phrase == phrase.lower().strip(), not_hidden(paper_keyphrases.c.paper_pk))
            .order_by(paper_keyphrases.c.paper_pk.desc())
            .limit(limit)
        )
        with self.db.read() as conn:
            return [int(pk) for pk in conn.execute(query).scalars()]

    def phrase_days(self, since: str) -> list[tuple[str, str]]:
        """``(day, phrase)`` of every key phrase of visible papers added on or after ``since``."""
        query = (
            select(paper_summaries.c.day, paper_keyphrases.c.phrase)
            .join(paper_summaries, paper_summaries.c.paper_pk == paper_keyphrases.c.paper_pk)
            .where(paper_summaries.c.day >= since, not_hidden(paper_keyphrases.c.paper_pk))
        )
        with self.db.read() as conn:
            return [(str(d), str(p)) for d, p in conn.execute(query)]
