"""A user's taste: the signals behind their recommendations, and the per-user model kept in ``taste_models``.

Signals are read from the plain tables (:mod:`dailypapers.db.schema`), once for both backends:

* positives — papers the user upvoted (``votes.voter == "user:<id>"``), saved in any of their collections, is an
  approved author of (``claims``), or named as seed papers among their interests (``interests.paper_ids``);
* negatives — papers they marked "not for me" (``paper_feedback``). A paper that is both counts as a negative only:
  the explicit refusal is the newer, more specific signal.

The model of one user and one embedding model (:class:`Taste`) is the set of positive and negative keys and the
float32 sums of their vectors: the centroids are ``sum / count``, and each change folds one vector in or out
(:meth:`Tastes.changed`, called by the Library when a vote, collection item, claim, feedback or interest changes),
so keeping it current costs a few small queries, never a pass over the signals. The row is a cache: when it is
missing, or was made for another embedding model, :meth:`Tastes.get` rebuilds it from the signals. A positive whose
paper has no embedding yet (a submission still being embedded) is kept in ``pending`` and folded in when its vector
appears. The state is a small binary format of our own (a JSON header and raw little-endian arrays), never pickle.
"""

from __future__ import annotations

import json
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Lock

import numpy as np
from sqlalchemy import Connection, select

from dailypapers.db.engine import Database, key_chunks
from dailypapers.db.schema import claims, collection_items, collections, interests, paper_feedback, papers, votes
from dailypapers.db.schema import taste_models as taste_t
from dailypapers.papers.store.base import Store

MAGIC = b"DPT2"  # bumped when the layout changes: an older state is rebuilt
KIND_ORDER = ("upvoted", "saved", "authored", "interest")  # the reason names the first kind a positive has
VECTOR_CACHE = 20_000  # positive/negative vectors kept per process: 30 MB of 384-d float32


@dataclass
class Taste:
    """One user's model for one embedding model: keys of the signals and the sums of their vectors."""

    user_id: str
    model: str
    dim: int
    positives: list[int] = field(default_factory=list)  # keys whose vectors are in pos_sum, oldest first
    kinds: list[int] = field(default_factory=list)  # per positive: its index in KIND_ORDER (the reason's words)
    negatives: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # positives or negatives whose paper has no vector yet
    pos_sum: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    neg_sum: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __post_init__(self) -> None:
        if self.pos_sum.size == 0:
            self.pos_sum = np.zeros(self.dim, np.float32)
        if self.neg_sum.size == 0:
            self.neg_sum = np.zeros(self.dim, np.float32)

    @property
    def empty(self) -> bool:
        return not self.positives

    def kind_of(self, pk: int) -> str:
        """How the user came by positive ``pk`` ("upvoted", "saved", "authored", "interest")."""
        try:
            return KIND_ORDER[self.kinds[self.positives.index(pk)]]
        except (ValueError, IndexError):
            return ""

    def centroid(self, negative: bool = False) -> np.ndarray | None:
        """The unit mean of the positive (or negative) vectors; None when there are none."""
        total, n = (self.neg_sum, len(self.negatives)) if negative else (self.pos_sum, len(self.positives))
        norm = float(np.linalg.norm(total))
        return None if n == 0 or norm == 0.0 else (total / norm).astype(np.float32)

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {"dim": self.dim, "pos": len(self.positives), "neg": len(self.negatives), "pending": len(self.pending)}
        ).encode()
        keys = np.asarray(self.positives + self.negatives + self.pending, dtype="<i8").tobytes()
        sums = np.concatenate([self.pos_sum, self.neg_sum]).astype("<f4").tobytes()
        kinds = np.asarray(self.kinds, dtype=np.uint8).tobytes()
        return MAGIC + struct.pack("<I", len(header)) + header + keys + sums + kinds

    @classmethod
    def from_bytes(cls, user_id: str, model: str, data: bytes) -> Taste | None:
        """The state written by :meth:`to_bytes`; None when it is not one (then the caller rebuilds)."""
        try:
            if data[:4] != MAGIC:
                return None
            (length,) = struct.unpack("<I", data[4:8])
            head = json.loads(data[8 : 8 + length])
            dim, n_pos, n_neg, n_pend = int(head["dim"]), int(head["pos"]), int(head["neg"]), int(head["pending"])
            at = 8 + length
            keys = np.frombuffer(data, dtype="<i8", count=n_pos + n_neg + n_pend, offset=at).tolist()
            sums = np.frombuffer(data, dtype="<f4", count=2 * dim, offset=at + 8 * len(keys)).astype(np.float32)
            kinds = np.frombuffer(data, dtype=np.uint8, count=n_pos, offset=at + 8 * len(keys) + 8 * dim).tolist()
        except (ValueError, KeyError, struct.error, TypeError):
            return None
        return cls(
            user_id, model, dim, keys[:n_pos], kinds, keys[n_pos : n_pos + n_neg], keys[n_pos + n_neg :],
            sums[:dim].copy(), sums[dim:].copy(),
        )  # fmt: skip


def _seed_pks(conn: Connection, user_id: str) -> list[int]:
    row = conn.execute(select(interests.c.paper_ids).where(interests.c.user_id == user_id)).first()
    ids = (row[0] or "").split() if row else []
    if not ids:
        return []
    return [int(pk) for pk in conn.execute(select(papers.c.pk).where(papers.c.id.in_(ids))).scalars()]


def positive_kinds(conn: Connection, user_id: str, among: Sequence[int] | None = None) -> dict[int, str]:
    """The user's positive papers (key → the first of :data:`KIND_ORDER` that applies), all or only ``among``;
    negatives are left out."""
    found: dict[int, set[str]] = {}
    chunks: Iterable[list[int] | None] = [None] if among is None else key_chunks(among)
    for chunk in chunks:
        queries = {
            "upvoted": select(votes.c.paper_pk).where(votes.c.voter == f"user:{user_id}"),
            "saved": select(collection_items.c.paper_pk)
            .join(collections, collections.c.id == collection_items.c.collection_id)
            .where(collections.c.user_id == user_id),
            "authored": select(claims.c.paper_pk).where(claims.c.user_id == user_id, claims.c.status == "approved"),
        }
        for kind, query in queries.items():
            column = query.selected_columns[0]
            if chunk is not None:
                query = query.where(column.in_(chunk))
            for pk in conn.execute(query).scalars():
                found.setdefault(int(pk), set()).add(kind)
    wanted = None if among is None else {int(k) for k in among}
    for pk in _seed_pks(conn, user_id):
        if wanted is None or pk in wanted:
            found.setdefault(pk, set()).add("interest")
    refused = negative_keys(conn, user_id, among)
    return {pk: next(k for k in KIND_ORDER if k in kinds) for pk, kinds in found.items() if pk not in refused}


def negative_keys(conn: Connection, user_id: str, among: Sequence[int] | None = None) -> set[int]:
    query = select(paper_feedback.c.paper_pk).where(
        paper_feedback.c.user_id == user_id, paper_feedback.c.kind == "not_for_me"
    )
    if among is None:
        return {int(pk) for pk in conn.execute(query).scalars()}
    found: set[int] = set()
    for chunk in key_chunks(among):
        found.update(int(pk) for pk in conn.execute(query.where(paper_feedback.c.paper_pk.in_(chunk))).scalars())
    return found


class Tastes:
    """The per-user models on the configured database, for the current embedding model (``model()``)."""

    def __init__(self, db: Database, store: Store, model: Callable[[], str]) -> None:
        self.db = db
        self.store = store
        self.model = model
        self._vectors: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._vectors_lock = Lock()

    # -- vectors ------------------------------------------------------------------------------------------------
    def vector(self, model: str, pk: int) -> np.ndarray | None:
        """The stored embedding of paper ``pk`` (an LRU of :data:`VECTOR_CACHE` per process: a vector of a key
        changes only when the paper's text does, and then the next rebuild reads it afresh)."""
        key = (model, int(pk))
        with self._vectors_lock:
            if key in self._vectors:
                self._vectors.move_to_end(key)
                return self._vectors[key]
        found = self.store.get_embedding(model, int(pk))
        if found is not None:
            found = np.asarray(found, dtype=np.float32)
            with self._vectors_lock:
                self._vectors[key] = found
                while len(self._vectors) > VECTOR_CACHE:
                    self._vectors.popitem(last=False)
        return found

    def matrix(self, model: str, pks: Sequence[int], dim: int) -> np.ndarray:
        """The vectors of ``pks`` as rows (a key without a vector: a zero row)."""
        out = np.zeros((len(pks), dim), dtype=np.float32)
        for i, pk in enumerate(pks):
            v = self.vector(model, pk)
            if v is not None:
                out[i] = v
        return out

    # -- the model ----------------------------------------------------------------------------------------------
    def get(self, user_id: str) -> Taste:
        """The user's model for the current embedding model: stored, else rebuilt from the signals and stored."""
        model = self.model()
        with self.db.read() as conn:
            row = conn.execute(
                select(taste_t.c.state).where(taste_t.c.user_id == user_id, taste_t.c.model == model)
            ).first()
        taste = Taste.from_bytes(user_id, model, bytes(row[0])) if row else None
        if taste is None:
            return self.rebuild(user_id)
        if taste.pending:  # papers embedded since: fold them in now
            return self.changed(user_id, taste.pending)
        return taste

    def rebuild(self, user_id: str) -> Taste:
        """The model from all the user's signals (replacing the stored one)."""
        model = self.model()
        with self.db.write() as conn:
            taste = self._whole(conn, user_id, model)
            self._save(conn, taste)
        return taste

    def _whole(self, conn: Connection, user_id: str, model: str) -> Taste:
        kinds = positive_kinds(conn, user_id)
        pos, neg = sorted(kinds), sorted(negative_keys(conn, user_id))
        taste = Taste(user_id, model, self._dim(model, pos + neg))
        self._fold(taste, pos, [], neg, [], kinds)
        return taste

    def changed(self, user_id: str, pks: Iterable[int]) -> Taste:
        """Fold the papers ``pks`` in or out of the user's model as their signals now say (the Library calls this
        after each vote, collection change, claim decision, feedback and interest change)."""
        model = self.model()
        keys = sorted({int(pk) for pk in pks})
        with self.db.write() as conn:
            row = conn.execute(
                select(taste_t.c.state)
                .where(taste_t.c.user_id == user_id, taste_t.c.model == model)
                .with_for_update()  # two changes of one user never interleave (SQLite: BEGIN IMMEDIATE already)
            ).first()
            taste = Taste.from_bytes(user_id, model, bytes(row[0])) if row else None
            if taste is None:  # nothing to fold into: build it whole (in this transaction's view)
                taste = self._whole(conn, user_id, model)
            else:
                now_pos = positive_kinds(conn, user_id, keys)
                now_neg = negative_keys(conn, user_id, keys)
                had_pos, had_neg = set(taste.positives), set(taste.negatives)
                taste.pending = [pk for pk in taste.pending if pk not in keys]
                self._fold(
                    taste,
                    [k for k in keys if k in now_pos and k not in had_pos],
                    [k for k in keys if k in had_pos and k not in now_pos],
                    [k for k in keys if k in now_neg and k not in had_neg],
                    [k for k in keys if k in had_neg and k not in now_neg],
                    now_pos,
                )
                for i, pk in enumerate(taste.positives):  # still positive, perhaps now for another reason
                    if pk in now_pos:
                        taste.kinds[i] = KIND_ORDER.index(now_pos[pk])
            self._save(conn, taste)
        return taste

    def delete(self, user_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(taste_t.delete().where(taste_t.c.user_id == user_id))

    def _dim(self, model: str, pks: Sequence[int]) -> int:
        for pk in pks:
            v = self.vector(model, pk)
            if v is not None:
                return int(v.shape[0])
        for _, block in self.store.iter_embeddings(model, batch=1):
            return int(block.shape[1])
        return 0

    def _fold(
        self,
        taste: Taste,
        add_pos: list[int],
        del_pos: list[int],
        add_neg: list[int],
        del_neg: list[int],
        kinds: dict[int, str],
    ) -> None:
        steps = ((add_pos, 1, False), (del_pos, -1, False), (add_neg, 1, True), (del_neg, -1, True))
        for keys, sign, negative in steps:
            held = taste.negatives if negative else taste.positives
            total = taste.neg_sum if negative else taste.pos_sum
            for pk in keys:
                v = self.vector(taste.model, pk) if taste.dim else None
                if sign > 0 and (v is None or v.shape[0] != taste.dim):
                    taste.pending.append(pk)  # no vector yet: folded in once it exists
                    continue
                if sign > 0:
                    held.append(pk)
                    if not negative:
                        taste.kinds.append(KIND_ORDER.index(kinds.get(pk, "upvoted")))
                    total += v
                elif pk in held:
                    if not negative:
                        del taste.kinds[held.index(pk)]
                    held.remove(pk)
                    vec = self.vector(taste.model, pk)
                    if vec is not None:
                        total -= vec
            if not held:  # an empty sum is exactly zero, not the rounding left by adding and taking out
                total[:] = 0.0

    def _save(self, conn: Connection, taste: Taste) -> None:
        values = {
            "state": taste.to_bytes(),
            "positives": len(taste.positives),
            "negatives": len(taste.negatives),
            "updated_at": datetime.now(UTC),
        }
        stmt = self.db.insert(taste_t).values(user_id=taste.user_id, model=taste.model, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["user_id", "model"], set_=values))
