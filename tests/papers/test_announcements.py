"""The announcement rule on each backend: new and cross-listed papers join their day's list, replacements update
stored papers without listing them again, weekends change nothing, and one paper from several sources stays one
paper at its newest version, listed on the first day any source listed it. Feeds come over HTTP from a real local
server (:class:`FeedServer`), through the library and through the ``dailypapers ingest feed`` command.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.announcements import AnnouncementReport
from dailypapers.papers.models import make_paper
from dailypapers.papers.periods import day_period
from dailypapers.papers.sources.arxiv_feed import Announcement, read_arxiv_feed
from tests.demo import cli_env, demo_embedder
from tests.fakes_arxiv import serve
from tests.papers.sources.conftest import fixture_bytes
from tests.papers.sources.test_arxiv_feed import BILLION_LAUGHS, CATS, MONDAY, RSS, TUESDAY, FeedServer
from tests.web.small_library import LORA, SMALL_DAY, build_small

SATURDAY = date(2024, 12, 7)


@pytest.fixture
def config(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Config:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    return Config(password_hash="cheapest", data_dir=tmp_path, database_url=url)


@pytest.fixture
def lib(config: Config) -> Iterator[Library]:
    library = build_small(config, demo_embedder())
    yield library
    library.close()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with serve(FeedServer()) as server:
        assert isinstance(server, FeedServer)
        yield server


def announce(lib: Library, feeds: FeedServer, fixture: str, fmt: str) -> AnnouncementReport:
    feeds.today = (200, RSS, fixture_bytes(fixture))
    return lib.ingest_announcements(read_arxiv_feed(CATS, base_url=feeds.url, fmt=fmt, timeout=5), progress=False)


def listed_on(lib: Library, day: date) -> set[str]:
    return {p.id for p in lib.papers.in_period(day_period(day))}


def test_two_announcement_days_and_a_weekend(lib: Library, feeds: FeedServer) -> None:
    monday = announce(lib, feeds, "arxiv_feed_day1.xml", "atom")
    assert list(monday.days) == [MONDAY] and monday.days[MONDAY].added == 3
    assert (monday.skipped, len(monday.rejected)) == (1, 1)  # a replacement we never stored; an item without title
    assert listed_on(lib, MONDAY) == {"2412.01001", "2412.01002", "2411.09999"}
    assert lib.papers.get("2410.05555") is None

    tuesday = announce(lib, feeds, "arxiv_feed_day2.xml", "rss")
    assert list(tuesday.days) == [TUESDAY] and tuesday.days[TUESDAY].added == 1
    assert (tuesday.replaced.updated, tuesday.skipped, len(tuesday.rejected)) == (3, 0, 1)
    assert listed_on(lib, TUESDAY) == {"2412.02001"}  # replacements are not listed again
    assert listed_on(lib, MONDAY) == {"2412.01001", "2412.01002", "2411.09999"}
    experts = lib.papers.get("2412.01001")
    assert experts is not None and experts.version == 2 and experts.added_at == MONDAY
    assert experts.title == "Sparse Mixtures of Tiny Experts (with ablations)"
    kernels = lib.papers.get("2411.09999")
    assert kernels is not None and kernels.version == 2 and "error bounds" in kernels.abstract
    lora = lib.papers.get(LORA)  # imported from Hugging Face (v2, 5 upvotes), replaced through the feed
    assert lora is not None and (lora.version, lora.added_at, lora.upvotes) == (3, SMALL_DAY, 5)
    assert "vision models" in lora.abstract
    hits = lib.search.query("attention sinks in small models", mode="semantic").results
    assert hits and hits[0].paper.id == "2412.02001"  # indexed after the import

    count = lib.papers.count()
    weekend = announce(lib, feeds, "arxiv_feed_weekend.xml", "rss")
    assert weekend.days == {} and (weekend.added, weekend.updated, weekend.skipped) == (0, 0, 0)
    assert "weekend or holiday" in weekend.summary()
    assert lib.papers.count() == count and listed_on(lib, SATURDAY) == set()

    again = announce(lib, feeds, "arxiv_feed_day2.xml", "rss")  # the same feed twice changes nothing
    assert (again.added, again.updated) == (0, 0) and listed_on(lib, TUESDAY) == {"2412.02001"}


def test_one_paper_from_several_sources_keeps_its_first_day_and_newest_version(lib: Library) -> None:
    api = make_paper(
        arxiv_id="2412.05001v3",
        title="Scaling Laws for Tiny Models",
        abstract="Version three from the arXiv API.",
        source="arxiv",
        published=datetime(2024, 11, 20, 18, 0, tzinfo=UTC),
        comment="Accepted at a workshop",
        journal_ref="Tiny Models 1 (2024)",
        primary_category="stat.ML",
        categories=["stat.ML", "cs.LG"],
        authors=["Ada One", "Bert Two"],
        affiliations=["Tiny Lab", None],
    )
    lib.ingest([api], added_at=date(2024, 11, 21), progress=False)

    def item(kind: str, day: date, version: int, abstract: str) -> Announcement:
        paper = make_paper(
            arxiv_id=f"2412.05001v{version}",
            title="Scaling Laws for Tiny Models",
            abstract=abstract,
            source="arxiv-feed",
            categories=["cs.LG", "stat.ML"],
            authors=["Ada One", "Bert Two"],
        )
        return Announcement(kind, day, paper)

    late = lib.ingest_announcements([item("cross", MONDAY, 2, "Version two, cross-listed.")], progress=False)
    assert late.days[MONDAY].unchanged == 1  # an older version never replaces a newer one
    newer = lib.ingest_announcements([item("replace", TUESDAY, 4, "Version four.")], progress=False)
    assert newer.replaced.updated == 1
    paper = lib.papers.get("2412.05001")
    assert paper is not None and (paper.version, paper.abstract) == (4, "Version four.")
    assert paper.added_at == date(2024, 11, 21) and listed_on(lib, TUESDAY) == set()
    # what only the API knew survives the feed's update
    assert paper.published == api.published and paper.comment == "Accepted at a workshop"
    assert (paper.journal_ref, paper.primary_category) == ("Tiny Models 1 (2024)", "stat.ML")
    assert paper.affiliations == ["Tiny Lab", None]


def test_a_paper_announced_on_two_days_is_listed_on_the_first(lib: Library) -> None:
    paper = make_paper(arxiv_id="2412.06001v1", title="Twice Announced", abstract="Once.", source="arxiv-feed")
    report = lib.ingest_announcements(
        [Announcement("new", TUESDAY, paper), Announcement("cross", MONDAY, paper)], progress=False, index=False
    )
    assert (report.days[MONDAY].added, report.days[TUESDAY].unchanged) == (1, 1)
    stored = lib.papers.get("2412.06001")
    assert stored is not None and stored.added_at == MONDAY


def test_the_ingest_feed_command(config: Config, lib: Library, feeds: FeedServer) -> None:
    env = {**cli_env(config), "DAILYPAPERS_ARXIV_FEED_URL": feeds.url}
    runner = CliRunner()
    feeds.today = (200, RSS, fixture_bytes("arxiv_feed_day2.xml"))
    done = runner.invoke(main, ["ingest", "feed", "cs.LG", "stat.ML", "--format", "rss", "--no-index"], env=env)
    assert done.exit_code == 0, done.output
    assert "2024-12-03: added 1" in done.output and "replacements: updated 1" in done.output  # LoRA only
    assert "rejected item 5: unknown announce type 'withdrawn'" in done.output
    assert feeds.seen[-1].path == "/rss/cs.LG+stat.ML"
    assert listed_on(lib, TUESDAY) == {"2412.02001"}

    feeds.today = (200, RSS, BILLION_LAUGHS)
    hostile = runner.invoke(main, ["ingest", "feed", "cs.LG", "--no-index"], env=env)
    assert hostile.exit_code == 1 and "refused unsafe XML" in hostile.output
    bad = runner.invoke(main, ["ingest", "feed", "cs.LG;rm", "--no-index"], env=env)
    assert bad.exit_code == 1 and "not an arXiv category" in bad.output
