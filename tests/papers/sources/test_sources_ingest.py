"""Each source ingested into the real SQLite store: first import, an idempotent re-import, then a newer version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.papers.sources import ingest, read_arxiv, read_hf_daily, read_jsonl, read_kaggle
from dailypapers.papers.store import Store, open_store

from .conftest import ATOM, FIXTURES, FakeArxiv, fixture_bytes

DAY = date(2024, 5, 2)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(Config(password_hash="cheapest", data_dir=tmp_path))
    s.migrate()
    yield s
    s.close()


def test_jsonl_ingest(store: Store, tmp_path: Path) -> None:
    path = FIXTURES / "papers_small.jsonl"
    report = ingest(store, read_jsonl(path), added_at=DAY, progress=False)
    assert (report.added, report.updated, report.unchanged, len(report.rejected)) == (3, 0, 0, 5)
    again = ingest(store, read_jsonl(path), progress=False)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    newer = tmp_path / "newer.jsonl"
    newer.write_text(
        json.dumps({"id": "arXiv:1706.03762v8", "title": "Attention Is All You Need (v8)", "abstract": "Revised."})
        + "\n"
    )
    report = ingest(store, read_jsonl(newer), progress=False)
    assert (report.added, report.updated) == (0, 1)
    paper = store.get_paper("1706.03762")
    assert paper is not None and (paper.version, paper.title) == (8, "Attention Is All You Need (v8)")
    assert paper.added_at == DAY and store.count_papers() == 3


def test_kaggle_ingest(store: Store, tmp_path: Path) -> None:
    path = FIXTURES / "kaggle_snapshot.json"
    report = ingest(store, read_kaggle(path), added_at=DAY, progress=False)
    assert (report.added, report.updated, report.unchanged) == (5, 0, 0)
    assert [r.position for r in report.rejected] == ["line 3", "line 5"]
    again = ingest(store, read_kaggle(path), progress=False)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    stored = store.get_paper("0704.0001")
    assert stored is not None and stored.authors[0] == "C. Balázs" and stored.version == 2
    line = json.loads(path.read_text().splitlines()[0])
    line["title"] = "Calculation of prompt diphoton production cross sections (revised)"
    line["versions"].append({"version": "v3", "created": "Wed, 5 Sep 2007 10:00:00 GMT"})
    older = dict(line, title="An older title", versions=line["versions"][:1])
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(older) + "\n" + json.dumps(line) + "\n")
    report = ingest(store, read_kaggle(newer), progress=False)
    assert (report.added, report.updated) == (0, 1)
    stored = store.get_paper("0704.0001")
    assert stored is not None and stored.version == 3 and stored.title.endswith("(revised)")
    newer.write_text(json.dumps(older) + "\n")  # an older version never replaces a newer one
    report = ingest(store, read_kaggle(newer), progress=False)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 1)
    stored = store.get_paper("0704.0001")
    assert stored is not None and stored.version == 3 and stored.added_at == DAY


def test_arxiv_ingest(store: Store, arxiv_server: FakeArxiv) -> None:
    def run() -> tuple[int, int, int, int]:
        records = read_arxiv(
            "cat:cs.LG", max_results=10, page_size=2, base_url=arxiv_server.url, delay=0.0, retries=1, timeout=5.0
        )
        r = ingest(store, records, added_at=DAY, progress=False)
        return r.added, r.updated, r.unchanged, len(r.rejected)

    assert run() == (4, 0, 0, 1)
    assert run() == (0, 0, 4, 1)
    revised = (
        fixture_bytes("arxiv_page1.xml")
        .replace(b"2106.09685v2", b"2106.09685v3")
        .replace(b"<title>LoRA: Low-Rank", b"<title>LoRA v3: Low-Rank")
    )
    arxiv_server.script = [(200, ATOM, revised)]
    assert run() == (0, 1, 3, 1)
    lora = store.get_paper("2106.09685")
    assert lora is not None and lora.version == 3 and lora.title.startswith("LoRA v3")
    assert lora.affiliations[:2] == ["Microsoft Corporation", None]


def test_hf_ingest(store: Store, tmp_path: Path) -> None:
    path = FIXTURES / "hf_daily_papers.json"
    report = ingest(store, read_hf_daily(str(path)), progress=False)
    assert (report.added, report.updated, report.unchanged, len(report.rejected)) == (2, 0, 0, 3)
    assert report.added == store.count_added_between(DAY, DAY)  # added_at comes from submittedOnDailyAt
    again = ingest(store, read_hf_daily(str(path)), progress=False)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    items = json.loads(path.read_text())[:1]
    items[0]["paper"].update(id="2405.00332v2", title="A Careful Examination, revised", upvotes=40)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(items))
    report = ingest(store, read_hf_daily(str(newer)), progress=False)
    assert (report.added, report.updated) == (0, 1)
    paper = store.get_paper("2405.00332")
    assert paper is not None
    assert (paper.version, paper.title, paper.upvotes) == (2, "A Careful Examination, revised", 40)
