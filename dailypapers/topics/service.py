"""``lib.topics``: the topic map, its clusters and labels, rising topics, and key phrases / key sentences.

The map job (:meth:`Topics.update_map`, job ``map``) places every embedded paper: the first run, a run with
``full=True`` (the weekly schedule, ``dailypapers jobs run map.full``) or a run that finds more new papers than
:data:`RELAYOUT_SHARE` of the placed ones computes the whole layout again (:mod:`dailypapers.topics.layout`), a
new generation; any other run places only the new papers by their neighbours, so a morning's papers appear on the
map within seconds while nothing else moves. The key-phrase job (:meth:`Topics.update_phrases`, job
``keyphrases``) extracts the phrases and key sentence of every paper that has none, or whose text changed.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from dailypapers.papers.models import Paper
from dailypapers.papers.store.base import Store
from dailypapers.search.vectors.embedder import Embedder
from dailypapers.topics import layout as geometry
from dailypapers.topics.coldstart import ROUND, choose, typical_per_topic
from dailypapers.topics.keyphrases import extract_many
from dailypapers.topics.labels import label_topics
from dailypapers.topics.repository import Cluster, Points, TopicStore
from dailypapers.topics.rising import Rising, first_day, rising

log = logging.getLogger(__name__)

RELAYOUT_SHARE = 0.5  # more new papers than this share of the placed ones: the old layout no longer fits them
PHRASE_BATCH = 32  # papers per embedding call of the key-phrase job
PHRASES_PER_RUN = 2000  # a scheduled run's share of a backlog (~40 short texts a paper): the next runs go on
RISING_WEEKS = 8
ROUND_POOL = 5000  # the rating round asks about the newest papers on the map (their vectors kept in memory: 7 MB)


@dataclass(frozen=True)
class Topic:
    """A cluster as the pages show it, with its rise (``None`` when it is not rising)."""

    cluster: Cluster
    rising: Rising[int] | None = None


def _text_hash(paper: Paper) -> str:
    return hashlib.sha256(f"{paper.title}\n{paper.abstract}".encode()).hexdigest()[:16]


class Topics:
    """The map and key phrases of one library (``store``: papers and embeddings; ``embedder``: the model)."""

    def __init__(self, store: Store, topic_store: TopicStore, embedder: Callable[[], Embedder],
                 model: Callable[[], str], *, seed: int = 0) -> None:  # fmt: skip
        self.store = store
        self.tables = topic_store
        self._embedder = embedder
        self._model = model
        self.seed = seed
        self._pool: tuple[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, list[int]]]] | None = (
            None
        )

    # -- the map --------------------------------------------------------------------------------------------------
    def _embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        pks, vectors = [], []
        for batch_pks, batch in self.store.iter_embeddings(self._model()):
            pks.append(batch_pks)
            vectors.append(batch)
        if not pks:
            return np.zeros(0, np.int64), np.zeros((0, 1), np.float32)
        order = np.argsort(np.concatenate(pks), kind="stable")
        return np.concatenate(pks)[order], np.concatenate(vectors)[order]

    def _facts(self, pks: Iterable[int]) -> dict[int, Paper]:
        """The papers of ``pks`` (hidden ones too: they keep their place for when they are unhidden)."""
        wanted = set(int(pk) for pk in pks)
        return {p.pk: p for p in self.store.iter_papers() if p.pk is not None and p.pk in wanted}

    def update_map(self, *, full: bool = False) -> dict[str, int | str]:
        """Place the papers that have embeddings: all of them again (``full``, or no layout yet, or too many new
        ones), else only the new ones. Returns what it did."""
        pks, vectors = self._embeddings()
        placed_pks, placed_xy, placed_cluster = self.tables.placed()
        new = np.setdiff1d(pks, placed_pks)
        if full or len(placed_pks) == 0 or len(new) > RELAYOUT_SHARE * len(placed_pks):
            return self._relayout(pks, vectors)
        if len(new) == 0:
            return {"placed": 0, "generation": self.tables.generation()}
        index = {int(pk): i for i, pk in enumerate(pks)}
        known = np.array([index[int(pk)] for pk in placed_pks if int(pk) in index], np.int64)
        keep = np.array([int(pk) in index for pk in placed_pks])
        new_rows = np.array([index[int(pk)] for pk in new], np.int64)
        xy, cluster = geometry.place_near(vectors[known], placed_xy[keep], placed_cluster[keep], vectors[new_rows])
        generation = self.tables.generation()
        facts = self._facts(new)
        self.tables.add_points(
            [
                _point(facts.get(int(pk)), int(pk), xy[i], int(cluster[i]), generation, "near")
                for i, pk in enumerate(new)
            ]
        )
        return {"placed": len(new), "generation": generation}

    def _relayout(self, pks: np.ndarray, vectors: np.ndarray) -> dict[str, int | str]:
        if len(pks) == 0:
            self.tables.replace_layout([], [])
            return {"placed": 0, "generation": 0}
        xy = geometry.layout(vectors, self.seed)
        cluster = geometry.clusters(vectors, self.seed)
        facts = self._facts(pks)
        texts = [_label_text(facts.get(int(pk))) for pk in pks]
        labels = label_topics(texts, cluster)
        generation = self.tables.generation() + 1
        points = [_point(facts.get(int(pk)), int(pk), xy[i], int(cluster[i]), generation, "fit")
                  for i, pk in enumerate(pks)]  # fmt: skip
        clusters = []
        for c, terms in labels.items():
            members = cluster == c
            centre = np.median(xy[members], axis=0)
            clusters.append(dict(id=c, generation=generation, terms="; ".join(terms), size=int(members.sum()),
                                 x=float(centre[0]), y=float(centre[1])))  # fmt: skip
        self.tables.replace_layout(points, clusters)
        return {"placed": len(pks), "topics": len(clusters), "generation": generation, "recomputed": "yes"}

    def generation(self) -> int:
        """The current layout's generation (0: the map was never computed)."""
        return self.tables.generation()

    def clusters(self) -> list[Cluster]:
        """The topics of the current layout, largest first."""
        return self.tables.clusters()

    def points(self) -> Points:
        """Every visible paper on the map."""
        return self.tables.points()

    def clusters_of(self, pks: Iterable[int]) -> dict[int, int]:
        """``{paper key: its topic}`` for those of ``pks`` that are on the map."""
        return self.tables.clusters_of(pks)

    # -- rising ---------------------------------------------------------------------------------------------------
    def rising_topics(
        self, last: date | None, *, weeks: int = RISING_WEEKS, limit: int = 5, min_count: int = 3
    ) -> list[Topic]:
        """Topics whose share of new papers rose in the week of ``last`` (the newest day with papers)."""
        if last is None:
            return []
        by_id = {c.id: c for c in self.clusters()}
        rows = self.tables.cluster_days(first_day(last, weeks).isoformat())
        found = rising(rows, last, weeks=weeks, limit=limit, min_count=min_count)
        return [Topic(by_id[r.key], r) for r in found if r.key in by_id]

    def rising_phrases(self, last: date | None, *, weeks: int = RISING_WEEKS, limit: int = 5) -> list[Rising[str]]:
        """Key phrases whose share of new papers rose in the week of ``last``."""
        if last is None:
            return []
        rows = self.tables.phrase_days(first_day(last, weeks).isoformat())
        return rising(rows, last, weeks=weeks, limit=limit)

    # -- the rating round (dailypapers.topics.coldstart) ------------------------------------------------------------
    def rating_round(
        self, liked: Iterable[int], refused: Iterable[int], n: int = ROUND, topics: Sequence[int] = ()
    ) -> list[int]:
        """Keys of the papers to ask a reader about next, given the keys they liked and refused so far: one per
        topic they have not rated yet (or of the ``topics`` they picked on the map), then those the taste model is
        least sure about (among the newest :data:`ROUND_POOL` papers on the map)."""
        pks, vectors, clusters, typical = self._round_pool()
        row = {int(pk): i for i, pk in enumerate(pks)}
        rated = {row[pk]: True for pk in liked if pk in row} | {row[pk]: False for pk in refused if pk in row}
        return [int(pks[r]) for r in choose(vectors, clusters, rated, n, typical=typical, topics=topics)]

    def _round_pool(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, list[int]]]:
        """The newest placed papers with their vectors and topics, kept until the map changes."""
        placed_pks, _, placed_clusters = self.tables.placed()
        key = (self.tables.generation(), len(placed_pks))
        if self._pool is None or self._pool[0] != key:
            keep = np.argsort(-placed_pks, kind="stable")[:ROUND_POOL]
            pks, vectors = self._embeddings()
            row = {int(pk): i for i, pk in enumerate(pks)}
            keep = np.array([i for i in keep if int(placed_pks[i]) in row], np.int64)
            chosen_pks, clusters = placed_pks[keep], placed_clusters[keep]
            matrix = vectors[[row[int(pk)] for pk in chosen_pks]] if len(keep) else np.zeros((0, 1), np.float32)
            self._pool = (key, (chosen_pks, matrix, clusters, typical_per_topic(matrix, clusters)))
        return self._pool[1]

    # -- key phrases ----------------------------------------------------------------------------------------------
    def update_phrases(self, *, limit: int | None = None) -> dict[str, int | str]:
        """Extract key phrases and key sentences of the papers that have none (or whose text changed)."""
        embedder = self._embedder()
        model = embedder.name
        done = self.tables.summarised(model)
        todo = [p for p in self.store.iter_papers() if p.pk is not None and done.get(p.pk) != _text_hash(p)]
        left = max(0, len(todo) - limit) if limit is not None else 0
        todo = todo[:limit] if limit is not None else todo
        for start in range(0, len(todo), PHRASE_BATCH):
            self._phrase_batch(todo[start : start + PHRASE_BATCH], embedder)
        return {"extracted": len(todo), "left": left, "model": model}

    def _phrase_batch(self, batch: Sequence[Paper], embedder: Embedder) -> None:
        inputs: list[tuple[str, str, np.ndarray | str]] = []
        for paper in batch:
            vector = self.store.get_embedding(embedder.name, paper.pk or 0)
            inputs.append((paper.title, paper.abstract, vector if vector is not None else paper.embedding_text()))
        results = extract_many(inputs, embedder.embed)
        day = {p.pk: p.added_at.isoformat() if p.added_at else "" for p in batch}
        self.tables.save_phrases([(p.pk or 0, r.phrases, r.sentence, embedder.name, _text_hash(p), day[p.pk])
                                  for p, r in zip(batch, results, strict=True)])  # fmt: skip

    def phrases_of(self, pks: Iterable[int]) -> dict[int, tuple[list[str], str]]:
        """``{paper key: (key phrases, key sentence)}`` of those of ``pks`` that have them."""
        return self.tables.phrases_of(pks)

    def with_phrase(self, phrase: str, limit: int = 100) -> list[int]:
        """Keys of the visible papers with ``phrase`` among their key phrases, newest first."""
        return self.tables.with_phrase(phrase, limit)


def _label_text(paper: Paper | None) -> str:
    return f"{paper.title}. {paper.title}. {paper.abstract}" if paper else ""  # the title counts twice


def _point(paper: Paper | None, pk: int, xy: np.ndarray, cluster: int, generation: int, placed: str) -> dict:  # type: ignore[type-arg]
    day = paper.added_at.isoformat() if paper is not None and paper.added_at else ""
    category = (paper.primary_category or (paper.categories[0] if paper.categories else "")) if paper else ""
    return dict(paper_pk=pk, x=float(xy[0]), y=float(xy[1]), cluster=cluster, generation=generation,
                placed=placed, day=day, category=category)  # fmt: skip
