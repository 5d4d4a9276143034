"""The tantivy keyword index of the SQLite backend: its schema, its folder, and keeping it in step with the store.

The index is derived: everything in it comes from the ``papers`` table, and it can always be rebuilt from there.
It lives in ``<data>/keyword/tantivy-v<SCHEMA_VERSION>`` beside the vector index; a new schema version is a new
folder, so an old index is never read with a new schema (it is built afresh, then the old folder removed).

**Fields.** ``title``, ``abstract``, ``authors``: text, tokenized by ``paper_en`` (words, lower case, ASCII folding,
the Snowball English stemmer: the stems highlighting marks); term frequencies but no positions, which BM25 needs
and phrase queries would (none are asked). Filters, applied inside the engine: ``display_day`` and ``added_day``
(``YYYYMMDD`` integers, fast fields), ``category`` (each category and its dot prefixes, raw terms: ``cs.LG`` is
found by ``cs`` and ``cs.LG``, as SQL's ``= OR LIKE 'cs.%'``), ``author_lc`` (the lower-case author list as one
raw term, matched by a regular expression: the substring rule of the SQL filter). ``pk`` (indexed, fast) names the
paper; ``id`` (raw) its arXiv id. Nothing of a paper is stored: the index is for ranking, the database for reading.

**Generation and crash safety.** One document (``kind`` = ``meta``) holds the index's ``uid`` (a random name given
when it is built), its ``gen`` (one more at every commit) and ``complete`` (0 while a build runs). The database's
``meta`` row :data:`META_KEY` holds the uid and generation it has recorded, and the table ``keyword_index`` the
version of each paper the index holds. An update commits the index first, then records the batch and the new
generation in one SQLite transaction: a SIGKILL between the two leaves the index one generation ahead, and the next
update writes the same papers again (each add deletes the paper's old document first, so that is harmless). A
tantivy commit is atomic (its ``meta.json`` is replaced), so a kill mid-batch loses the uncommitted batch only, and
that batch is still pending in the database. An index whose uid differs from the database's, or whose generation is
not the database's (or one ahead), was restored or copied from elsewhere: it is emptied and built again.

**One writer, many readers.** Writers take ``LOCK`` in the folder (``flock``, waiting), then tantivy's own writer
lock; readers in any process reload on a new commit (see :mod:`.tantivy_search`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tantivy
from tqdm import tqdm

if TYPE_CHECKING:
    from dailypapers.papers.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
META_KEY = "keyword_index"
TOKENIZER = "paper_en"
BATCH = 20_000  # papers per commit: a kill loses at most this much work
WRITER_HEAP = 200_000_000
MAX_AUTHOR_BYTES = 30_000  # a raw term must stay under tantivy's 65,530-byte limit (physics papers list 1,000s)


def analyzer() -> tantivy.TextAnalyzer:
    """The text analysis of every searched field, for documents and queries alike."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("pk", indexed=True, fast=True)
    for name in ("title", "abstract", "authors"):
        sb.add_text_field(name, tokenizer_name=TOKENIZER, index_option="freq")
    sb.add_text_field("id", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("category", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("author_lc", tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("display_day", indexed=True, fast=True)
    sb.add_integer_field("added_day", indexed=True, fast=True)
    sb.add_text_field("kind", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("uid", tokenizer_name="raw", stored=True, index_option="basic")
    sb.add_integer_field("gen", stored=True)
    sb.add_integer_field("complete", stored=True)
    return sb.build()


SCHEMA = build_schema()


def index_folder(root: Path) -> Path:
    """Where this schema version's index lives under ``root`` (``<data>/keyword``)."""
    return Path(root) / f"tantivy-v{SCHEMA_VERSION}"


def open_index(folder: Path) -> tantivy.Index:
    """The index in ``folder`` (created empty when missing), its analyzer registered."""
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(SCHEMA, path=str(folder), reuse=True)
    index.register_tokenizer(TOKENIZER, analyzer())
    return index


def day_number(iso: str | None) -> int | None:
    """``2026-12-08`` as the integer 20261208 (what the date filters compare)."""
    return int(iso[:10].replace("-", "")) if iso else None


def categories_with_prefixes(categories: str) -> list[str]:
    """Each category and its dot prefixes: ``cs.LG`` -> ``cs``, ``cs.LG``."""
    found: dict[str, None] = {}
    for cat in categories.split():
        parts = cat.split(".")
        for i in range(1, len(parts) + 1):
            found[".".join(parts[:i])] = None
    return list(found)


def paper_document(row: dict[str, Any]) -> tantivy.Document:
    """The document of one paper row (the columns of ``keyword_pending``)."""
    authors_lc = (row["author_names"] or "").lower().encode()[:MAX_AUTHOR_BYTES].decode(errors="ignore")
    fields: dict[str, Any] = {
        "pk": int(row["pk"]),
        "title": row["title"] or "",
        "abstract": row["abstract"] or "",
        "authors": row["author_names"] or "",
        "id": row["id"],
        "author_lc": authors_lc,
        "kind": "paper",
    }
    cats = categories_with_prefixes(row["categories"] or "")
    if cats:
        fields["category"] = cats
    for name, column in (("display_day", "display_date"), ("added_day", "added_at")):
        day = day_number(row[column])
        if day is not None:
            fields[name] = day
    return tantivy.Document(**fields)


@dataclass(frozen=True)
class IndexState:
    """What the meta document of an index says (or the database's ``meta`` row: ``complete`` unknown there)."""

    uid: str
    gen: int
    complete: bool = True


def read_state(searcher: tantivy.Searcher) -> IndexState | None:
    """The index's own state (None for an empty index)."""
    hits = searcher.search(tantivy.Query.term_query(SCHEMA, "kind", "meta"), 1, count=False).hits
    if not hits:
        return None
    doc = searcher.doc(hits[0][1]).to_dict()
    return IndexState(str(doc["uid"][0]), int(doc["gen"][0]), bool(doc["complete"][0]))


def recorded_state(store: SQLiteStore) -> IndexState | None:
    """The uid and generation the database has recorded (None when it has recorded no index)."""
    raw = store.meta.get(META_KEY)
    if not raw:
        return None
    data = json.loads(raw)
    return IndexState(str(data["uid"]), int(data["gen"]))


def in_step(own: IndexState | None, recorded: IndexState | None) -> bool:
    """Whether an index with state ``own`` is the one the database recorded: the same uid, and the same generation
    or one ahead (a commit whose record a crash prevented)."""
    return own is not None and recorded is not None and own.uid == recorded.uid and 0 <= own.gen - recorded.gen <= 1


def _meta_value(state: IndexState) -> tuple[str, str]:
    return META_KEY, json.dumps({"uid": state.uid, "gen": state.gen})


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """The one-writer lock of the keyword index under ``root`` (waits for another writer to finish)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "LOCK", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class KeywordIndexWriter:
    """Updates of one store's tantivy index (a short-lived object: one per update)."""

    def __init__(self, store: SQLiteStore, root: Path, *, batch: int = BATCH) -> None:
        self.store, self.root, self.batch = store, Path(root), batch
        self.folder = index_folder(self.root)

    def update(self, *, progress: bool | None = None, rebuild: bool = False) -> int:
        """Index what the store changed since the last update (everything, for a new, foreign or stale index, or
        when ``rebuild``); return how many papers were written."""
        with writer_lock(self.root):
            index = open_index(self.folder)
            index.reload()
            own, recorded = read_state(index.searcher()), recorded_state(self.store)
            fresh = rebuild or not in_step(own, recorded)
            writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
            try:
                if fresh:
                    state = IndexState(uuid.uuid4().hex, 0, complete=False)
                    writer.delete_all_documents()
                    self.store.keyword_forget_all(meta=_meta_value(state))  # every paper pending again
                    log.info("building the keyword index afresh in %s", self.folder)
                else:
                    assert own is not None
                    state = own
                done = self._write_pending(writer, state, progress)
            except BaseException:
                writer.rollback()  # what was not committed yet; the database still lists it as pending
                raise
            finally:
                writer.wait_merging_threads()
        self._remove_old_versions()
        return done

    def _write_pending(self, writer: tantivy.IndexWriter, state: IndexState, progress: bool | None) -> int:
        removed = self.store.keyword_orphans()
        _delete_papers(writer, removed)
        total = self.store.keyword_pending_count()
        done = 0
        disable = None if progress is None else not progress
        with tqdm(total=total, desc="keyword index", unit="paper", file=sys.stderr, disable=disable) as bar:
            for rows in self.store.keyword_pending(self.batch):
                _delete_papers(writer, [int(r["pk"]) for r in rows])  # their older versions, if any
                for row in rows:
                    writer.add_document(paper_document(row))
                done += len(rows)
                state = self._commit(writer, state, complete=state.complete or done >= total)
                self.store.keyword_indexed([(int(r["pk"]), r["content_hash"]) for r in rows], removed,
                                           meta=_meta_value(state))  # fmt: skip
                removed = []
                bar.update(len(rows))
        if removed or not state.complete:
            state = self._commit(writer, state, complete=True)
            self.store.keyword_indexed([], removed, meta=_meta_value(state))
        if done:
            log.info("keyword index: %d papers written, generation %d", done, state.gen)
        return done

    @staticmethod
    def _commit(writer: tantivy.IndexWriter, state: IndexState, *, complete: bool) -> IndexState:
        """Replace the meta document (the next generation) and commit everything added since the last commit."""
        new = IndexState(state.uid, state.gen + 1, complete)
        writer.delete_documents_by_query(tantivy.Query.term_query(SCHEMA, "kind", "meta"))
        writer.add_document(tantivy.Document(kind="meta", uid=new.uid, gen=new.gen, complete=int(complete)))
        writer.commit()
        return new

    def _remove_old_versions(self) -> None:
        """Delete the folders of other schema versions once this one is built (readers of an old version, in a
        process not restarted yet, keep their open files: Linux frees them when closed)."""
        for old in self.root.glob("tantivy-v*"):
            if old != self.folder and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)


def _delete_papers(writer: tantivy.IndexWriter, pks: list[int]) -> None:
    """Delete the documents of these papers (documents added after this call are kept). By query: tantivy-py's
    ``delete_documents_by_term`` does not match an integer field's terms."""
    if pks:
        writer.delete_documents_by_query(tantivy.Query.term_set_query(SCHEMA, "pk", pks))


@dataclass(frozen=True)
class IndexCheck:
    """The consistency of the index with the store: papers it lacks or holds in an old version (``missing``),
    documents of papers no longer stored (``orphans``), and whether its state is the database's (``in_step``)."""

    missing: list[int]
    orphans: list[int]
    in_step: bool
    documents: int

    @property
    def ok(self) -> bool:
        return self.in_step and not self.missing and not self.orphans


def check_index(store: SQLiteStore, root: Path) -> IndexCheck:
    """Compare the index's documents with the papers table, key by key (reads every key: a second or two at 1M)."""
    folder = index_folder(root)
    versions = store.keyword_versions()
    if not (folder / "meta.json").exists():
        return IndexCheck(missing=[pk for pk, _, _ in versions], orphans=[], in_step=False, documents=0)
    index = open_index(folder)
    index.reload()
    searcher = index.searcher()
    own = read_state(searcher)
    query = tantivy.Query.term_query(SCHEMA, "kind", "paper")
    hits = searcher.search(query, max(1, searcher.num_docs), count=False).hits
    held = searcher.fast_field_values("pk", [addr for _, addr in hits])
    indexed = {int(pk) for pk in held if pk is not None}
    stored = {pk for pk, _, _ in versions}
    missing = [pk for pk, current, held_hash in versions if pk not in indexed or current != held_hash]
    return IndexCheck(
        missing=missing,
        orphans=sorted(indexed - stored),
        in_step=in_step(own, recorded_state(store)) and bool(own and own.complete),
        documents=len(indexed),
    )


def remove_index(root: Path) -> None:
    """Delete every keyword index folder under ``root`` (the next update builds one afresh)."""
    for folder in Path(root).glob("tantivy-v*"):
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(root, exist_ok=True)
