"""Hostile input to the importers: numbers and dates out of range, control characters, broken JSON lines.

Each bad record must become a :class:`Rejected` with its position and reason while the rest of the file is
imported (on both storage backends: the bounds protect what each database can store), and no text that reaches
the store or the terminal may carry control characters.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.papers.models import MAX_UPVOTES, MAX_VERSION, Paper
from dailypapers.papers.sources import Rejected, SourceError, ingest, read_hf_daily, read_jsonl, read_kaggle
from dailypapers.papers.store import Store
from tests.demo import cli_env

DAY = date(2024, 5, 2)
# Control characters a terminal acts on (C0 except newline, DEL, C1).
TERMINAL_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def hf_item(arxiv_id: str, title: str, **paper: Any) -> dict[str, Any]:
    return {"paper": {"id": arxiv_id, "title": title, "summary": f"About {title}.", **paper}}


def kaggle_line(arxiv_id: str, versions: list[dict[str, str]]) -> dict[str, Any]:
    return {"id": arxiv_id, "title": f"Paper {arxiv_id}", "abstract": "An abstract.", "versions": versions}


def reasons(rejected: list[Rejected]) -> dict[str, str]:
    return {r.position: r.reason for r in rejected}


# -- numbers and dates out of range (item 1) ---------------------------------------------------------------------


def test_hf_upvotes_out_of_range_are_rejected(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    items = [
        hf_item("2405.00001", "Fine", upvotes=3),
        hf_item("2405.00002", "Too many upvotes", upvotes=10**30),
        hf_item("2405.00003", "As many as fit", upvotes=MAX_UPVOTES),
        hf_item("2405.00004", "One too many", upvotes=MAX_UPVOTES + 1),
        hf_item("2405.00005", "Fine too", upvotes=0),
    ]
    path.write_text(json.dumps(items))
    report = ingest(store, read_hf_daily(str(path)), added_at=DAY, progress=False)
    assert report.added == 3
    why = reasons(report.rejected)
    assert set(why) == {"item 2", "item 4"}
    assert all("upvotes is out of range" in reason for reason in why.values())
    stored = store.get_paper("2405.00003")
    assert stored is not None and stored.upvotes == MAX_UPVOTES


def test_hf_document_with_a_number_python_cannot_read_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    path.write_text('[{"paper": {"id": "2405.00001", "upvotes": ' + "9" * 5000 + "}}]")
    with pytest.raises(SourceError, match="not valid JSON"):
        list(read_hf_daily(str(path)))


def test_jsonl_dates_and_numbers_out_of_range_are_rejected(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "papers.jsonl",
        [
            {"title": "Good one", "abstract": "Kept.", "published": "2024-01-01"},
            {"title": "End of time", "abstract": "x", "published": "9999-12-31T23:59:59-01:00"},
            {"title": "Start of time", "abstract": "x", "updated": "0001-01-01T00:30:00+01:00"},
            {"title": "Last UTC second", "abstract": "Kept.", "published": "9999-12-31T23:59:59Z"},
            {"id": "2106.09685v99999", "title": "Version too high", "abstract": "x"},
            {"id": "2106.09685v" + "9" * 40, "title": "Version too long", "abstract": "x"},
            '{"title": "Huge number", "abstract": "x", "n": ' + "1" * 5000 + "}",
            {"id": f"2106.09685v{MAX_VERSION}", "title": "Highest version", "abstract": "Kept."},
        ],
    )
    report = ingest(store, read_jsonl(path), added_at=DAY, progress=False)
    assert report.added == 3
    why = reasons(report.rejected)
    assert set(why) == {"line 2", "line 3", "line 5", "line 6", "line 7"}
    assert why["line 2"].startswith("published is out of range in UTC")
    assert why["line 3"].startswith("updated is out of range in UTC")
    assert why["line 5"].startswith("version is out of range")
    assert why["line 6"].startswith("not an arXiv id")
    assert why["line 7"].startswith("invalid JSON")
    last = store.get_paper("2106.09685")
    assert last is not None and last.version == MAX_VERSION
    titles = {p.title: p for p in store.papers_added_between(DAY, DAY)}
    assert titles["Last UTC second"].published == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_kaggle_versions_out_of_range_are_rejected(store: Store, tmp_path: Path) -> None:
    good = {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}
    path = write_jsonl(
        tmp_path / "snapshot.json",
        [
            kaggle_line("0704.0001", [good]),
            kaggle_line("0704.0002", [good, {"version": "v99999999999999999999999", "created": good["created"]}]),
            kaggle_line("0704.0003", [{"version": "v1", "created": "Fri, 31 Dec 9999 23:59:59 -0100"}]),
            kaggle_line("0704.0004", [good, {"version": f"v{MAX_VERSION}", "created": good["created"]}]),
            kaggle_line("0704.0005", [{"version": "v" + "9" * 5000, "created": good["created"]}]),
        ],
    )
    report = ingest(store, read_kaggle(path), added_at=DAY, progress=False)
    assert report.added == 2
    why = reasons(report.rejected)
    assert set(why) == {"line 2", "line 3", "line 5"}
    assert why["line 2"].startswith("version is out of range")
    assert why["line 3"].startswith("versions[1].created is out of range in UTC")
    assert "bad version" in why["line 5"]
    highest = store.get_paper("0704.0004")
    assert highest is not None and highest.version == MAX_VERSION


# -- control characters (item 4) ----------------------------------------------------------------------------------


EVIL = {
    "id": "2401.00001",
    "title": "Evil\x1b[2J\x1b]0;pwned\x07 title\x00 with\ttab\r\nand break\u009b31m",
    "abstract": "First line.\nSecond\x1b[31m line\x7f with\x08 bell\x07.",
    "authors": ["Mallory\x1b[5m Evil", "\x1b\x07", "Eve\u0085Doe"],
    "comment": "10 pages\x1b[0m",
    "journal_ref": "J.\x00 Evil",
}


def test_control_characters_are_removed_at_import(store: Store, tmp_path: Path) -> None:
    rows = [EVIL, '{"title": "Lone \\ud800 surrogate", "abstract": "Stored as a replacement character."}']
    report = ingest(store, read_jsonl(write_jsonl(tmp_path / "evil.jsonl", rows)), added_at=DAY, progress=False)
    assert (report.added, report.rejected) == (2, [])
    paper = store.get_paper("2401.00001")
    assert paper is not None
    assert paper.title == "Evil[2J]0;pwned title with tab and break31m"
    assert paper.abstract == "First line. Second[31m line with bell."
    assert paper.authors == ["Mallory[5m Evil", "Eve Doe"]  # a name of controls only is no author
    assert (paper.comment, paper.journal_ref) == ("10 pages[0m", "J. Evil")
    (lone,) = [p for p in store.papers_added_between(DAY, DAY) if p.id != "2401.00001"]
    assert lone.title == "Lone \ufffd surrogate"


def _cli_env(data_dir: Path) -> dict[str, str | None]:
    return cli_env(Config(password_hash="cheapest", data_dir=data_dir))


def test_cli_search_prints_no_control_characters(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "evil.jsonl", [EVIL, {"title": "A calm paper", "abstract": "Nothing to see."}])
    env = _cli_env(tmp_path / "data")
    runner = CliRunner()
    imported = runner.invoke(main, ["ingest", "jsonl", str(path), "--no-index"], env=env)
    assert imported.exit_code == 0, imported.output
    assert "added 2" in imported.output
    found = runner.invoke(main, ["search", "evil title", "--mode", "keyword"], env=env)
    assert found.exit_code == 0, found.output
    assert "Evil[2J]0;pwned title" in found.output and "Mallory[5m Evil" in found.output
    assert not TERMINAL_CONTROLS.search(found.output), repr(found.output)
    as_json = runner.invoke(main, ["search", "evil title", "--mode", "keyword", "--json"], env=env)
    assert as_json.exit_code == 0 and "\x1b" not in json.loads(as_json.stdout)["results"][0]["abstract"]


# -- JSONL error columns (item 5) -------------------------------------------------------------------------------------


def test_jsonl_error_columns_are_real_columns(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    lines = [
        b'{"title": "x", "abstract": [1,',  # error at the end of the line
        b'{"title" "x"}',
        '{"title": "\u00e9\u4e2d", x}'.encode(),  # columns count characters, not bytes
        b'{"title": "\xc3\xa9\xff"}',  # invalid UTF-8 after a two-byte character
        b'{"title": "line with a raw tab\there"}',
        b'{"title": "x", "abstract": [1,\r',  # a CRLF file
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    why = reasons([r for r in read_jsonl(path) if isinstance(r, Rejected)])
    assert why == {
        "line 1": f"invalid JSON: Expecting value at column {len(lines[0]) + 1} (the end of the line)",
        "line 2": "invalid JSON: Expecting ':' delimiter at column 10",
        "line 3": "invalid JSON: Expecting property name enclosed in double quotes at column 17",
        "line 4": "not valid UTF-8 at column 13",
        "line 5": "invalid JSON: Invalid control character at column 31",
        "line 6": f"invalid JSON: Expecting value at column {len(lines[5])} (the end of the line)",
    }


# -- Hugging Face list day and our own ids (item 3) -------------------------------------------------------------------


def test_hf_list_day_comes_from_paper_submitted_on_daily_at(tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    ours = next(r for r in read_jsonl(write_jsonl(tmp_path / "t.jsonl", [{"title": "Ours", "abstract": "x"}])))
    assert isinstance(ours, Paper)
    items = [
        hf_item("2405.00001", "On the list day", submittedOnDailyAt="2024-05-02T23:59:59.000Z"),
        {**hf_item("2405.00002", "Older dump"), "submittedOnDailyAt": "2024-04-30T08:00:00.000Z"},
        hf_item(ours.id, "Ours", submittedOnDailyAt="2024-05-01T00:00:00.000Z"),
        hf_item("dp-000000000000", "Not ours", submittedOnDailyAt="2024-05-01T00:00:00.000Z"),
        hf_item("2405.00003", "Bad day", submittedOnDailyAt="9999-12-31T23:59:59-01:00"),
    ]
    path.write_text(json.dumps(items))
    first, second, third, fourth, fifth = read_hf_daily(str(path))
    assert isinstance(first, Paper) and first.added_at == date(2024, 5, 2)
    assert isinstance(second, Paper) and second.added_at == date(2024, 4, 30)
    assert isinstance(third, Paper) and (third.id, third.added_at) == (ours.id, date(2024, 5, 1))
    assert isinstance(fourth, Rejected) and "does not match the title" in fourth.reason
    assert isinstance(fifth, Rejected) and "paper.submittedOnDailyAt is out of range" in fifth.reason


# -- the import's output (item 7) -----------------------------------------------------------------------------------


@pytest.mark.slow  # a subprocess imports and embeds with the real model
def test_an_import_prints_no_transformers_loss_type_warning(tmp_path: Path) -> None:
    """A fresh process, as a user runs it: transformers warns once per process, so an in-process runner that
    loaded the model before would pass whatever the code does."""
    path = write_jsonl(tmp_path / "one.jsonl", [{"title": "One paper", "abstract": "Embedded and indexed."}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "dailypapers", "ingest", "jsonl", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "added 1" in done.stdout
    assert "loss_type" not in done.stdout + done.stderr, done.stderr
