"""Liveness and readiness: what ``/healthz`` and ``/readyz`` answer, cheap enough to ask every second.

* :func:`liveness` — the process answers (no database query: a load balancer's probe must not queue behind a slow
  database to learn that the process is up).
* :func:`readiness` — this worker can serve: the database answers, its schema has every migration this version
  ships, the vector index is loaded (when the app warms up at start) and holds the configured model's vectors, and
  the in-process scheduler still ticks (when ``serve`` runs one). Each check is one indexed query or an attribute
  read: no count of papers, no model load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import text

from dailypapers.db.migrations import migration_files

if TYPE_CHECKING:
    from dailypapers.library import Library


class Ticking(Protocol):
    """What readiness asks of a scheduler (:class:`dailypapers.jobs.scheduler.Scheduler`)."""

    @property
    def alive(self) -> bool: ...


@dataclass
class Readiness:
    """The checks, each ``{"ok": bool, "detail": str}``; ``ok`` when all passed."""

    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(c["ok"] for c in self.checks.values())

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks[name] = {"ok": ok, "detail": detail}

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": self.checks, "ms": round(self.seconds * 1000, 2)}


@cache
def shipped_migrations(backend: str) -> frozenset[str]:
    """The migrations this version ships for ``backend`` (read from the package once)."""
    return frozenset(name for name, _ in migration_files(backend))


def pending_migrations(lib: Library) -> list[str]:
    """The shipped migrations the database has not applied, in order (one read of ``schema_migrations``)."""
    with lib.db.read() as conn:
        applied = {str(r[0]) for r in conn.execute(text("SELECT name FROM schema_migrations"))}
    return sorted(shipped_migrations(lib.papers.backend) - applied)


def liveness() -> dict[str, Any]:
    return {"ok": True, "status": "alive"}


def readiness(lib: Library, scheduler: Ticking | None = None) -> Readiness:
    """Whether ``lib`` can serve requests now (see the module docstring)."""
    start = time.perf_counter()
    found = Readiness()
    try:
        missing = pending_migrations(lib)
    except Exception as exc:  # any failure to read is "not ready", with its reason; never a 500
        found.add("database", False, f"{type(exc).__name__}: {str(exc).strip()[:200]}")
        found.add("migrations", False, "unknown: the database did not answer")
    else:
        found.add("database", True, f"{lib.papers.backend} answers")
        detail = f"pending: {', '.join(missing)}" if missing else "current"
        found.add("migrations", not missing, detail + ("" if not missing else " (run `dailypapers db migrate`)"))
    _vector_index(lib, found)
    if scheduler is not None:
        alive = scheduler.alive
        found.add("scheduler", alive, "ticking" if alive else "stopped: scheduled jobs will not run in this process")
    found.seconds = time.perf_counter() - start
    return found


def _vector_index(lib: Library, found: Readiness) -> None:
    """The vector index is loaded (once warm-up has run; otherwise the first search loads it) and of the model."""
    loaded = vars(lib.search).get("vectors")  # the cached property, set once the index has been opened
    model = lib.model_name
    if loaded is None:
        if lib.config.warm_up:
            found.add("vector_index", False, "loading (the app loads the model and the index at start)")
        else:
            found.add("vector_index", True, "not loaded yet: the first search loads it (DAILYPAPERS_WARM_UP is off)")
        return
    if loaded.model != model:
        found.add("vector_index", False, f"holds {loaded.model}, but the configured model is {model}")
        return
    found.add("vector_index", True, f"{loaded.model} loaded")
