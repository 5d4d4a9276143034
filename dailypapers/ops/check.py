"""``dailypapers check [--repair]``: is the instance consistent, and if not, rebuild what is derived.

Each check returns a :class:`Finding`; :func:`run_checks` runs them all and, with ``repair``, repairs what failed
and checks again. A repair only ever rebuilds what is *derived* — the keyword index, embeddings and the vector
index, the state of job runs and outbox mail — and never changes what people wrote (papers, accounts, votes,
comments, collections, subscriptions, the text of a mail).

==============  ===========================================================  =====================================
check           problem                                                      repair
==============  ===========================================================  =====================================
migrations      the database lacks migrations this version ships             none: ``dailypapers db migrate``
settings        (checked when the configuration loads: a bad value stops)    none
keyword_index   a paper not searchable by keywords, an entry of no paper     rebuild the keyword index
embeddings      papers without an embedding of the configured model (or      embed them; delete the orphans
                one of changed text), embeddings whose paper is gone
vector_index    a stored embedding missing from the vector index, a vector   rebuild the vector index
                of no embedded paper, an invalid index (PostgreSQL)
jobs            runs left ``running`` by a worker that died (its job lock    mark them ``interrupted``
                is free: nobody runs it)
outbox          mail left ``sending`` by a sender that died (the ``mail``    back to ``pending`` (or ``failed``
                lock is free)                                                after its last attempt)
==============  ===========================================================  =====================================

The SQL lives with the store (:mod:`dailypapers.papers.store.consistency`); the keyword check goes through
:meth:`dailypapers.search.service.Search.keyword_index_check`, which a keyword engine may answer itself.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.runs import JobRun, JobRuns, utc_now
from dailypapers.mail.mailer import NullMailer
from dailypapers.mail.outbox import MAIL_LOCK
from dailypapers.ops.health import pending_migrations
from dailypapers.papers.store import consistency

if TYPE_CHECKING:
    from dailypapers.library import Library

SAMPLE = 10


@dataclass
class Finding:
    """One check's outcome: ``ok``, a sentence, the numbers behind it, and what a repair did."""

    name: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)
    repairable: bool = True
    repaired: str = ""

    def as_json(self) -> dict[str, Any]:
        found = {"name": self.name, "ok": self.ok, "detail": self.detail, **self.data}
        return found | ({"repaired": self.repaired} if self.repaired else {})


@dataclass
class Report:
    findings: list[Finding]
    repair: bool = False

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def exit_code(self) -> int:
        """0 when clean (after a repair: when everything was repaired), 1 when problems remain."""
        return 0 if self.ok else 1

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "repair": self.repair, "checks": [f.as_json() for f in self.findings]}


def check_migrations(lib: Library) -> Finding:
    missing = pending_migrations(lib)
    if missing:
        detail = f"{len(missing)} migration(s) not applied: {', '.join(missing)}; run `dailypapers db migrate`"
        return Finding("migrations", False, detail, {"pending": missing}, repairable=False)
    return Finding("migrations", True, "every migration is applied")


def check_settings(lib: Library) -> Finding:
    c = lib.config  # a configuration that loaded is valid (load_config checks every value)
    detail = f"valid ({c.backend}, model {lib.model_name}, metrics {c.metrics}, logs {c.log_format})"
    return Finding("settings", True, detail, repairable=False)


def check_keyword_index(lib: Library) -> Finding:
    found = lib.search.keyword_index_check()
    if found.ok:
        return Finding("keyword_index", True, f"{found.engine}: {found.indexed} of {found.papers} papers indexed",
                       found.as_json())  # fmt: skip
    parts = [f"{found.missing_count} paper(s) not indexed"] if found.missing_count else []
    parts += [f"{found.orphan_count} entr(ies) of no paper"] if found.orphan_count else []
    return Finding("keyword_index", False, f"{found.engine}: " + "; ".join(parts + found.faults), found.as_json())


def check_embeddings(lib: Library) -> Finding:
    model, store = lib.model_name, lib.store
    needing = store.count_needing_embedding(model)
    orphans = consistency.orphan_embeddings(store)
    others = {m: n for m, n in store.embedding_counts().items() if m != model}
    data = {"model": model, "needingEmbedding": needing, "orphans": orphans, "otherModels": others}
    note = f"; embeddings of other models kept: {others} (`dailypapers index prune` deletes them)" if others else ""
    if needing or orphans:
        detail = f"{needing} paper(s) lack an up-to-date {model} embedding; {orphans} embedding(s) of no paper"
        return Finding("embeddings", False, detail + note, data)
    return Finding("embeddings", True, f"every paper has its {model} embedding" + note, data)


def check_vector_index(lib: Library) -> Finding:
    store, index = lib.store, lib.search.vectors
    invalid = consistency.invalid_indexes(store, "embeddings")
    data: dict[str, Any] = {"model": index.model, "size": index.size(), "invalid": invalid}
    ann = getattr(index, "ann", None)  # the on-disk HNSW index (SQLite); pgvector's lives in the embeddings table
    if ann is not None:
        ann.reload_if_changed()
        stored, held = consistency.embedded_keys(store, index.model), set(ann.keys().tolist())
        missing, extra = sorted(stored - held), sorted(held - stored)
        data |= {"missing": len(missing), "missingSample": missing[:SAMPLE], "orphans": len(extra),
                 "orphanSample": extra[:SAMPLE]}  # fmt: skip
    problems = [f"{data['missing']} stored embedding(s) not in the index"] if data.get("missing") else []
    problems += [f"{data['orphans']} vector(s) of no embedded paper"] if data.get("orphans") else []
    problems += [f"index {name} is invalid" for name in invalid]
    if problems:
        return Finding("vector_index", False, f"{index.model}: " + "; ".join(problems), data)
    return Finding("vector_index", True, f"{index.model}: {data['size']} vectors, in step with the embeddings", data)


def _alive(host: str, pid: int) -> bool | None:
    """Whether process ``pid`` runs, when it ran on this machine; None when it ran on another."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _dead_runs(lib: Library) -> list[JobRun]:
    """Runs still ``running`` whose job lock nobody holds: a run holds its job's lock from start to end
    (:func:`dailypapers.jobs.scheduler.run_now`), so a free lock means its worker is gone, whatever its pid."""
    dead = []
    for run in (r for r in JobRuns(lib.db).recent(limit=1000) if r.status == "running"):
        job = JOBS.get(run.job)
        with lib.papers.job_lock(job.lock if job else run.job) as free:
            if free:
                dead.append(run)
    return dead


def check_jobs(lib: Library) -> Finding:
    dead = _dead_runs(lib)
    data = {"deadRuns": [{"id": r.id, "job": r.job, "host": r.host, "pid": r.pid, "pidAlive": _alive(r.host, r.pid)}
                         for r in dead[:SAMPLE]]}  # fmt: skip
    if dead:
        names = ", ".join(sorted({r.job for r in dead}))
        return Finding("jobs", False, f"{len(dead)} run(s) left running by a worker that stopped: {names}", data)
    return Finding("jobs", True, "no run left running by a stopped worker", data)


def check_outbox(lib: Library) -> Finding:
    sending = lib.outbox.counts()["sending"]
    if sending:
        with lib.papers.job_lock(MAIL_LOCK) as free:
            if free:
                detail = f"{sending} mail(s) left sending by a sender that stopped"
                return Finding("outbox", False, detail, {"stuck": sending})
        return Finding("outbox", True, f"{sending} mail(s) being sent now", {"stuck": 0})
    return Finding("outbox", True, "no mail stuck in sending", {"stuck": 0})


def _repair_keywords(lib: Library) -> str:
    lib.search.keyword_index_repair()
    return "rebuilt the keyword index"


def _repair_embeddings(lib: Library) -> str:
    deleted = consistency.delete_orphan_embeddings(lib.store)
    return f"deleted {deleted} orphan embedding(s), embedded {lib.search.update_index(progress=False)} paper(s)"


def _repair_vectors(lib: Library) -> str:
    consistency.reindex(lib.store, "embeddings")
    return f"rebuilt the vector index: {lib.search.vectors.rebuild()} vectors"


def _repair_jobs(lib: Library) -> str:
    now, runs, marked = utc_now(), JobRuns(lib.db), 0
    for name in sorted({r.job for r in _dead_runs(lib)}):
        job = JOBS.get(name)
        with lib.papers.job_lock(job.lock if job else name) as free:
            if free:  # holding the lock: no run of it is alive (what `run_now` does before each run)
                marked += runs.mark_interrupted(name, now=now)
    return f"marked {marked} run(s) interrupted"


def _repair_outbox(lib: Library) -> str:
    report = lib.outbox.deliver(NullMailer())  # under the mail lock: recovers, then sends nothing
    return f"{report.recovered} mail(s) back to pending (or failed after their last attempt)"


CHECKS: tuple[tuple[Callable[[Library], Finding], Callable[[Library], str] | None], ...] = (
    (check_migrations, None),
    (check_settings, None),
    (check_keyword_index, _repair_keywords),
    (check_embeddings, _repair_embeddings),  # before the vector index: a repair embeds, then the index is checked
    (check_vector_index, _repair_vectors),
    (check_jobs, _repair_jobs),
    (check_outbox, _repair_outbox),
)


def run_checks(lib: Library, *, repair: bool = False) -> Report:
    """Every check (and, with ``repair``, each failed one's repair, then the check again)."""
    findings = []
    for check, fix in CHECKS:
        found = _safely(check, lib)
        if repair and not found.ok and fix is not None and found.repairable:
            done = fix(lib)
            found = _safely(check, lib)
            found.repaired = done
        findings.append(found)
    return Report(findings, repair=repair)


def _safely(check: Callable[[Library], Finding], lib: Library) -> Finding:
    """A check that fails to run is a problem found, with its reason (a table missing before a migration)."""
    name = check.__name__.removeprefix("check_")
    try:
        return check(lib)
    except Exception as exc:
        return Finding(
            name, False, f"could not check: {type(exc).__name__}: {str(exc).strip()[:300]}", repairable=False
        )
