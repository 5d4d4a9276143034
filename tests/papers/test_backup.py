"""``dailypapers backup TARGET``: an online copy of the SQLite database through the papers service; a clear
refusal on PostgreSQL and for an existing file."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import make_paper
from tests.demo import cli_env


def test_backup_copies_the_database_while_it_is_open(db_config: Config, tmp_path: Path) -> None:
    lib = Library(db_config)  # stays open: the backup runs beside a live library
    lib.ingest([make_paper(source="jsonl", arxiv_id="2401.00001", title="Kept", abstract="Text.",
                           added_at=date(2024, 1, 8))], index=False)  # fmt: skip
    env = cli_env(db_config)
    target = tmp_path / "backup.db"
    result = CliRunner().invoke(main, ["backup", str(target)], env=env)
    try:
        if db_config.backend == "postgres":
            assert result.exit_code == 1 and "for PostgreSQL use pg_dump" in result.output
            return
        assert result.exit_code == 0, result.output
        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT id FROM papers").fetchall() == [("2401.00001",)]
        again = CliRunner().invoke(main, ["backup", str(target)], env=env)
        assert again.exit_code == 1 and "exists; choose a new file" in again.output
    finally:
        lib.close()
