"""Copy a whole dailypapers database into another one, either way between SQLite and PostgreSQL.

:func:`copy_store` (behind ``dailypapers db copy --to URL``) has two parts:

* papers and embeddings go through the :class:`~dailypapers.papers.store.base.Store` protocol (their tables are
  the backend-specific ones): papers in key order and batches of ``batch`` (one transaction each) with
  ``upsert_papers``, every field kept as stored (``added_at``, imported ``upvotes`` and ``version`` included),
  authors and categories with them; embeddings per model, re-keyed by paper id (the integer keys differ between
  databases). An embedding computed from an older text of its paper is left out: the target computes it anew on
  ``dailypapers index update``, as the source would have;
* every plain table (:data:`dailypapers.db.schema.COPY_ORDER`: meta, users, sessions, tokens, invites, votes) is
  copied by one table-driven loop over SQLAlchemy Core, rows kept as they are, the columns holding a paper's key
  (:data:`~dailypapers.db.schema.PAPER_KEYED`) re-keyed by paper id. A table added by a later migration joins
  the copy by being listed there; the target's triggers count the copied votes into ``votes_count``.

Then it counts rows on both sides. ``authors`` is not compared (a name lookup filled from the papers' author
lists; names no paper uses any more are not copied), nor ``rate_limits`` (counters of the last minutes). A table
this module does not know shows up as a mismatch instead of being lost silently.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Table, func, select, tuple_
from tqdm import tqdm

from dailypapers.config import Config
from dailypapers.db.engine import Database
from dailypapers.db.schema import COPY_ORDER, NOT_COPIED, PAPER_KEYED
from dailypapers.papers.models import Paper
from dailypapers.papers.store import Store, StoreError, open_store

# Every table of the schema, and how it is copied. tests/papers/store/test_copy.py checks no other exists.
COPIED_TABLES = {
    "papers": "upsert_papers, in key order",
    "authors": "with the papers (not compared: orphan names are not copied)",
    "paper_authors": "with the papers",
    "paper_categories": "with the papers",
    "embeddings": "per model, re-keyed by paper id",
    **{t.name: "table-driven, rows as they are" for t in COPY_ORDER},
    **{t.name: "not copied (short-lived counters, caches rebuilt on use)" for t in NOT_COPIED},
    "keyword_index": "not copied (SQLite's record of its tantivy index: the target builds its own)",
}
UNCOMPARED = ("authors", "embeddings", *(t.name for t in NOT_COPIED))  # embeddings: compared per model instead

Progress = Callable[[str, int, int], None]  # (step, rows done, rows in all)
T = TypeVar("T")


def copy_store(
    src: Store, dst: Store, *, batch: int = 1000, progress: Progress | None = None
) -> dict[str, tuple[int, int]]:
    """Copy everything in ``src`` (its paper store and its plain tables, ``src.db``) into the migrated ``dst``;
    return ``{table: (rows in src, rows in dst)}``.

    Embeddings are counted per model as ``embeddings[MODEL]`` (source: the embeddings that were copied, i.e. not
    stale). :func:`mismatches` picks the entries that differ.
    """
    step = progress or (lambda name, done, total: None)
    _copy_papers(src, dst, batch, step)
    copied = _copy_embeddings(src, dst, batch, step)
    rekey = _paper_keys(src, dst, batch)
    for table in COPY_ORDER:
        _copy_table(table, src.db, dst.db, rekey, batch, step)
    return compare(src, dst, copied)


def _paper_keys(src: Store, dst: Store, batch: int) -> dict[int, int]:
    """Source paper key -> target paper key, through the paper ids."""
    dst_pk = {p.id: p.pk for p in dst.iter_papers(batch)}
    keys: dict[int, int] = {}
    for paper in src.iter_papers(batch):
        target = dst_pk.get(paper.id)
        if paper.pk is not None and target is not None:
            keys[paper.pk] = target
    return keys


def _copy_table(table: Table, src: Database, dst: Database, rekey: dict[int, int], batch: int, step: Progress) -> None:
    """Copy every row of ``table``, in primary-key order, ``batch`` rows a transaction (rows already in the
    target are kept: a copy run twice adds nothing)."""
    keyed = PAPER_KEYED.get(table.name)
    order = list(table.primary_key.columns)
    with src.read() as conn:
        total = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    done = 0
    for rows in _batches(src, table, order, batch):
        values = [dict(r._mapping) for r in rows]
        if keyed:  # a row whose paper did not reach the target is left out (and shows up as a mismatch)
            values = [{**v, keyed: rekey[v[keyed]]} for v in values if v[keyed] in rekey]
        if values:
            with dst.write() as conn:
                conn.execute(dst.insert(table).values(values).on_conflict_do_nothing())
        done += len(rows)
        step(table.name, done, total)


def _batches(db: Database, table: Table, order: list[Any], batch: int) -> Iterator[Sequence[Any]]:
    """The rows of ``table`` in primary-key order, ``batch`` at a time (keyset pagination, one read each)."""
    last: tuple[Any, ...] | None = None
    while True:
        query = select(table).order_by(*order).limit(batch)
        if last is not None:
            query = query.where(tuple_(*order) > tuple_(*last))
        with db.read() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        last = tuple(getattr(rows[-1], c.name) for c in order)
        yield rows


def _copy_batched(
    name: str, items: Iterable[T], total: int, write: Callable[[list[T]], object], batch: int, step: Progress
) -> None:
    """Write ``items`` to the target ``batch`` at a time, reporting progress as ``name``."""
    done, chunk = 0, []
    for item in items:
        chunk.append(item)
        if len(chunk) >= batch:
            write(chunk)
            done += len(chunk)
            chunk = []
            step(name, done, total)
    if chunk:
        write(chunk)
        step(name, done + len(chunk), total)


def _copy_papers(src: Store, dst: Store, batch: int, step: Progress) -> None:
    papers = (dataclasses.replace(p, pk=None) for p in src.iter_papers(batch))
    _copy_batched("papers", papers, src.count_papers(), dst.upsert_papers, batch, step)


def _copy_embeddings(src: Store, dst: Store, batch: int, step: Progress) -> dict[str, int]:
    """Copy every model's current embeddings; return how many were copied per model."""
    models = src.embedding_counts()
    if not models:
        return {}
    dst_pk = {p.id: p.pk for p in dst.iter_papers(batch)}  # paper id -> key in the target
    copied: dict[str, int] = {}
    for model, total in models.items():
        outdated = {p.pk for papers in src.papers_needing_embedding(model, batch) for p in papers}
        copied[model] = seen = 0
        for pks, vectors in src.iter_embeddings(model, batch):
            keys = [int(pk) for pk in pks]
            papers = {p.pk: p for p in src.get_papers_by_pk(keys, include_hidden=True)}  # a copy keeps them all
            rows: list[tuple[Paper, np.ndarray]] = [
                (dataclasses.replace(papers[pk], pk=dst_pk[papers[pk].id]), vector)
                for pk, vector in zip(pks.tolist(), vectors, strict=True)
                if pk in papers and pk not in outdated and papers[pk].id in dst_pk
            ]
            dst.save_embeddings(model, rows)
            copied[model] += len(rows)
            seen += len(pks)
            step(f"embeddings[{model}]", seen, total)
    return copied


def compare(src: Store, dst: Store, embeddings: dict[str, int] | None = None) -> dict[str, tuple[int, int]]:
    """Rows per table in ``src`` and ``dst`` (embeddings per model; source counts from ``embeddings`` if given)."""
    src_rows, dst_rows = src.table_counts(), dst.table_counts()
    counts = {t: (n, dst_rows.get(t, 0)) for t, n in sorted(src_rows.items()) if t not in UNCOMPARED}
    src_models = src.embedding_counts() if embeddings is None else embeddings
    dst_models = dst.embedding_counts()
    for model in sorted(set(src_models) | set(dst_models)):
        counts[f"embeddings[{model}]"] = (src_models.get(model, 0), dst_models.get(model, 0))
    return counts


def mismatches(counts: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The entries of :func:`copy_store`'s result whose two counts differ."""
    return {t: c for t, c in counts.items() if c[0] != c[1]}


def open_target(config: Config, url: str) -> Store:
    """Open (not migrate) the store at ``url`` (``postgresql://…`` or ``sqlite:///PATH``); never the source itself."""
    if not url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise StoreError(f"target must be a postgresql://… or sqlite:///PATH URL, got {url!r}")
    target = dataclasses.replace(config, database_url=url)
    same_sqlite = (
        target.backend == config.backend == "sqlite" and target.sqlite_path.resolve() == config.sqlite_path.resolve()
    )
    if same_sqlite or (target.backend == "postgres" and url == config.database_url):
        raise StoreError("the target is the configured database itself; choose another one")
    return open_store(target)


def describe(store: Store) -> str:
    """Where ``store`` lives, without a password (for messages)."""
    path = getattr(store, "path", None)
    if isinstance(path, Path):
        return f"SQLite {path}"
    from dailypapers.papers.store.postgres import _redact

    return f"PostgreSQL {_redact(str(getattr(store, 'url', '')))}"


@contextmanager
def progress_bars(*, disable: bool | None = None) -> Iterator[Progress]:
    """A :data:`Progress` callback drawing one tqdm bar per step on stderr (``disable=None``: only on a terminal)."""
    bars: dict[str, tqdm] = {}

    def update(name: str, done: int, total: int) -> None:
        bar = bars.get(name)
        if bar is None:
            bar = bars[name] = tqdm(total=total, desc=name, unit=" rows", file=sys.stderr, disable=disable)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()
