"""Versioned schema migrations, one folder of numbered SQL files per backend.

Each file (``0001_papers.sql``, ``0002_…``) runs once, in name order, inside one transaction, and is recorded in
the ``schema_migrations`` table. Never edit a file that has landed: add the next number. Both backends get a file
of the same number for the same change, so the two schemas move together.
(We use plain SQL files rather than Alembic: the DDL that matters here — FTS5, tsvector, pgvector — is dialect
specific anyway, and this keeps SQLAlchemy out of the dependency tree.)
"""

from __future__ import annotations

import sqlite3
from importlib import resources


def migration_files(backend: str) -> list[tuple[str, str]]:
    """``(name, sql)`` of every migration for ``backend`` ("sqlite" or "postgres"), in the order they apply."""
    folder = resources.files(__package__).joinpath(backend)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (trigger bodies with inner semicolons stay whole)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
