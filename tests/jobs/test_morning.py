"""The morning's sources as jobs, on both backends: ``ingest.oai`` harvests the archives of the configured
categories from a real local OAI-PMH server and continues where it ended; and the same paper arriving from the
announcement feed, the OAI harvest and a JSONL import is one paper, at its newest version, listed on the first day
any source listed it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest

from dailypapers.jobs import Scheduler, run_now
from dailypapers.library import Library
from dailypapers.papers.sources.jsonl import read_jsonl
from tests.fakes_oai import FakeOai, OaiPaper, fake_oai

MONDAY = date(2024, 12, 2)
EXPERTS = "2412.01001"  # on Monday's feed (tests/papers/sources/fixtures/arxiv_feed_day1.xml), version 1


def _at(day: int) -> datetime:
    return datetime(2024, 12, day, 9, 30, tzinfo=UTC)


@pytest.fixture
def oai() -> Iterator[FakeOai]:
    papers = [
        OaiPaper("2411.01000", "Harvested only", date(2024, 12, 1), (_at(1),)),
        OaiPaper(EXPERTS, "Sparse Mixtures of Tiny Experts", date(2024, 12, 4), (_at(1), _at(3), _at(4))),
        OaiPaper("2411.02000", "A maths paper", date(2024, 12, 1), (_at(1),), categories="math.AG"),
    ]
    with fake_oai(papers, page_size=2) as server:
        yield server


def test_the_oai_job_harvests_the_archives_of_the_categories(
    make_library: Callable[..., Library], oai: FakeOai
) -> None:
    lib = make_library(oai_url=oai.url, oai_delay=0.0, oai_from="2024-12-01", schedule="ingest.oai=0 3 * * *")
    scheduler = Scheduler(lib, clock=lambda: datetime(2026, 12, 1, 3, 5, tzinfo=UTC))
    assert scheduler.tick() == ["ingest.oai"]
    (outcome,) = scheduler.wait_idle()
    assert outcome.run is not None and outcome.run.status == "ok", outcome.run
    counts = outcome.run.counts
    assert counts["sets"] == ["cs"] and counts["added"] == 2 and counts["resumed"] == []
    assert oai.seen[0].params["set"] == "cs" and oai.seen[0].params["metadataPrefix"] == "arXivRaw"
    assert lib.papers.get(EXPERTS).version == 3  # type: ignore[union-attr]
    again = run_now(lib, "ingest.oai").run
    assert again is not None and again.status == "ok" and again.counts["added"] == 0
    firsts = [s.params for s in oai.seen if "from" in s.params]
    today = datetime.now(UTC).date().isoformat()
    assert [(f["from"], f["until"]) for f in firsts] == [("2024-12-01", today), (today, today)]  # on from its end


def test_one_paper_from_every_source_at_its_newest_version_first_listed_day(
    make_library: Callable[..., Library], oai: FakeOai, tmp_path: object
) -> None:
    lib = make_library(oai_url=oai.url, oai_delay=0.0, oai_from="2024-12-01")
    assert run_now(lib, "ingest.announcements").run.counts["added"] == 3  # type: ignore[union-attr]
    listed = lib.papers.get(EXPERTS)
    assert listed is not None and listed.version == 1 and listed.added_at == MONDAY

    assert run_now(lib, "ingest.oai").run.status == "ok"  # type: ignore[union-attr]
    newer = lib.papers.get(EXPERTS)
    assert newer is not None and newer.version == 3 and newer.added_at == MONDAY  # updated, not re-listed

    older = tmp_path / "old.jsonl"  # type: ignore[operator]
    older.write_text(f'{{"id": "{EXPERTS}v2", "title": "Sparse Mixtures of Tiny Experts", "abstract": "Old."}}\n')
    report = lib.ingest(read_jsonl(older), added_at=date(2025, 1, 1), index=False)
    assert report.unchanged == 1  # an older version changes nothing
    again = run_now(lib, "ingest.announcements").run  # the same feed again: nothing moves back
    assert again is not None and again.counts["added"] == 0
    final = lib.papers.get(EXPERTS)
    assert final is not None and (final.version, final.added_at) == (3, MONDAY)
    assert lib.papers.count() == 4  # Monday's three and the harvested cs paper, each once; no maths paper
