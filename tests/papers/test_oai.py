"""The OAI-PMH bulk harvest against a real local OAI-PMH server (:mod:`tests.fakes_oai`): both arXiv formats
parsed, the protocol kept (arguments, resumption tokens, errors in the body, 503 Retry-After, spacing), hostile
XML refused, one paper from several sources kept at its newest version and first day, and a harvest killed with
SIGKILL in the middle that a rerun finishes from its saved token, ending as a clean run does. Everything that
touches the store runs on both backends.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.oai_harvest import configured_sets, load_state
from dailypapers.papers.sources import Rejected, SourceError
from dailypapers.papers.sources.arxiv_api import arxiv_id_lookup
from dailypapers.papers.sources.oai import OaiClient, OaiError, list_params
from dailypapers.papers.store import Store, open_store
from tests.demo import demo_embedder
from tests.fakes_arxiv import FakePaper, LocalServer, arxiv_by_id, serve
from tests.fakes_oai import XML, FakeOai, OaiPaper, error, fake_oai

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "oai"
FROM, UNTIL = date(2024, 12, 1), date(2024, 12, 3)


def at(day: int, month: int = 12, year: int = 2024) -> datetime:
    return datetime(year, month, day, 9, 30, tzinfo=UTC)


def catalogue() -> list[OaiPaper]:
    """Ten papers in ``cs`` over three datestamps (one deleted, some with several versions) and one in ``math``."""
    papers = [
        OaiPaper(f"2411.{1000 + n:05d}", f"Paper number {n}", date(2024, 12, 1 + n % 3), (at(1, 11), at(1 + n % 3)))
        for n in range(9)
    ]
    papers.append(OaiPaper("2411.09999", "Withdrawn", date(2024, 12, 2), (at(1, 11),), deleted=True))
    papers.append(OaiPaper("2411.08888", "Only maths", date(2024, 12, 2), (at(1, 11),), categories="math.AG"))
    return papers


@pytest.fixture
def oai() -> Iterator[FakeOai]:
    with fake_oai(catalogue(), page_size=3) as server:
        yield server


@pytest.fixture
def lib(db_config: Config, oai: FakeOai) -> Iterator[Library]:
    library = Library(dataclasses.replace(db_config, oai_url=oai.url, oai_delay=0.0, arxiv_retries=2))
    yield library
    library.close()


def stored(lib: Library | Store) -> list[tuple[str, int | None, str, date]]:
    """(id, version, title, added_at) of every stored paper, by id."""
    store = lib.store if isinstance(lib, Library) else lib
    with store.db.read() as conn:
        rows = conn.exec_driver_sql("SELECT id, version, title, added_at FROM papers ORDER BY id").all()
    return [(r[0], r[1], r[2], r[3] if isinstance(r[3], date) else date.fromisoformat(r[3])) for r in rows]


def client(server: LocalServer, delay: float = 0.0, retries: int = 2) -> OaiClient:
    return OaiClient(base_url=server.url, delay=delay, retries=retries, timeout=10)


def serve_fixture(name: str) -> LocalServer:
    return LocalServer(handler=lambda path, params: (200, XML, (FIXTURES / name).read_bytes()))


# -- the two formats ----------------------------------------------------------------------------------------------
def test_arxiv_format_page_authors_affiliations_deleted_and_malformed() -> None:
    with serve(serve_fixture("arxiv_page1.xml")) as server, client(server) as oai:
        page = oai.list_records(list_params("cs", "arXiv", FROM, UNTIL), "page 1")
    assert (page.token, page.cursor, page.complete_size, page.deleted) == ("6960524|1001", 0, 6, 1)
    old, new, bad = page.records
    assert isinstance(bad, Rejected) and bad.position == "page 1, record 4" and "title" in bad.reason
    assert not isinstance(old, Rejected) and not isinstance(new, Rejected)
    assert (old.id, old.version, old.title) == ("0704.0002", None, "Sparsity-certifying Graph Decompositions")
    assert old.abstract.startswith("We describe a new algorithm, the $(k,\\ell)$-pebble game with colors, and use it")
    assert (old.published, old.updated) == (datetime(2007, 3, 30, tzinfo=UTC), datetime(2008, 12, 13, tzinfo=UTC))
    assert (old.categories, old.primary_category) == (["math.CO", "cs.CG"], "math.CO")
    assert new.authors == ["Ada Lovelace Jr", "ATLAS Collaboration", "Alan M. Turing"]
    assert new.affiliations == ["Analytical Engine Society; University of London", None, "University of Manchester"]
    assert new.title == "Sparse Attention for Long Documents"  # line breaks and runs of spaces collapsed
    assert new.abstract == "We make attention sparse. Long documents fit."
    assert (new.journal_ref, new.doi) == ("Journal of Examples 12 (2025) 1-12", "10.1000/example.2024.01234")
    assert new.comment == "12 pages, 3 figures; code at https://github.com/example/sparse"
    assert new.published == new.updated == datetime(2024, 12, 2, tzinfo=UTC)
    assert (new.abs_url, new.source) == ("https://arxiv.org/abs/2412.01234", "arxiv-oai")


def test_arxivraw_page_latest_of_several_versions_and_the_last_token() -> None:
    with serve(serve_fixture("arxivraw_page2.xml")) as server, client(server) as oai:
        page = oai.list_records({"verb": "ListRecords", "resumptionToken": "6960525|1001"}, "page 2")
    assert (page.token, page.cursor, page.complete_size, page.deleted) == (None, 4, 6, 1)
    graph, strings = page.records
    assert not isinstance(graph, Rejected) and not isinstance(strings, Rejected)
    assert (graph.id, graph.version, graph.authors) == ("0704.0002", 3, ["Ileana Streinu", "Louis Theran"])
    assert graph.published == datetime(2007, 3, 31, 2, 26, 18, tzinfo=UTC)
    assert graph.updated == datetime(2024, 12, 2, 9, tzinfo=UTC)  # v3, listed before v2
    assert graph.title == "Sparsity-certifying Graph Decompositions"
    assert (strings.id, strings.version) == ("hep-th/9901001", 1)
    assert strings.authors == ["A. Physicist", "B. Theorist", "C. Student"]
    assert (strings.doi, strings.categories) == ("10.1103/PhysRevD.60.000001", ["hep-th", "hep-lat"])


# -- the protocol -------------------------------------------------------------------------------------------------
def test_harvest_asks_as_oai_pmh_says_and_counts(lib: Library, oai: FakeOai) -> None:
    report = lib.harvest_oai(["cs"], FROM, UNTIL, "arXivRaw", progress=False, index=False)
    first, *rest = [s.params for s in oai.seen]
    assert first == {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": "cs", "from": "2024-12-01",
                     "until": "2024-12-03"}  # fmt: skip
    assert rest == [{"verb": "ListRecords", "resumptionToken": t} for t in oai.issued]  # nothing else beside it
    (h,) = report.harvests
    assert (h.pages, h.records, h.deleted, h.added, h.updated, h.resumed_from) == (4, 10, 1, 9, 0, None)
    assert [(p[0], p[1]) for p in stored(lib)] == [(f"2411.{1000 + n:05d}", 2) for n in range(9)]
    assert {p[3] for p in stored(lib)} == {datetime.now(UTC).date()}  # listed as any bulk import is: today
    assert load_state(lib.store.meta, "cs", "arXivRaw")["harvested_up_to"] == "2024-12-03"
    assert report.counts_dict() == {"sets": ["cs"], "pages": 4, "records": 10, "added": 9, "updated": 0,
                                    "unchanged": 0, "deleted": 1, "rejected": 0, "resumed": []}  # fmt: skip
    again = lib.harvest_oai(["cs"], FROM, UNTIL, "arXivRaw", progress=False, index=False).harvests[0]
    assert (again.added, again.updated, again.unchanged) == (0, 0, 9)  # the same records twice: nothing changes
    assert len(stored(lib)) == 9


def test_next_harvest_starts_where_the_last_ended(lib: Library, oai: FakeOai) -> None:
    lib.harvest_oai(["cs"], FROM, date(2024, 12, 2), progress=False, index=False)
    lib.harvest_oai(["cs"], progress=False, index=False)  # no dates: from the last until, up to today
    starts = [oai.seen[i].params for i in oai.first_requests()]
    today = datetime.now(UTC).date().isoformat()
    assert [(s["from"], s["until"]) for s in starts] == [("2024-12-01", "2024-12-02"), ("2024-12-02", today)]
    assert len(stored(lib)) == 9


def test_first_harvest_starts_at_oai_from_else_yesterday(db_config: Config, oai: FakeOai) -> None:
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    for oai_from, expected in (("2024-12-02", "2024-12-02"), ("", yesterday)):
        library = Library(dataclasses.replace(db_config, oai_url=oai.url, oai_delay=0.0, oai_from=oai_from))
        try:
            library.store.meta.set("oai:arXiv:cs", "{}")  # as before any harvest
            before = len(oai.seen)
            library.harvest_oai(["cs"], progress=False, index=False)
        finally:
            library.close()
        assert oai.seen[before].params["from"] == expected


def test_other_dates_than_the_unfinished_window_start_the_window_asked_for(lib: Library, oai: FakeOai) -> None:
    oai.once[2] = error("badArgument", "a passing fault")
    with pytest.raises(OaiError):
        lib.harvest_oai(["cs"], FROM, UNTIL, progress=False, index=False)
    (h,) = lib.harvest_oai(["cs"], date(2024, 12, 2), UNTIL, progress=False, index=False).harvests
    assert h.resumed_from is None and oai.seen[-h.pages].params["from"] == "2024-12-02"
    assert load_state(lib.store.meta, "cs", "arXiv")["harvested_up_to"] == "2024-12-03"


@pytest.mark.slow
def test_the_harvest_indexes_what_it_stored_only_when_asked(db_config: Config, oai: FakeOai) -> None:
    library = Library(dataclasses.replace(db_config, oai_url=oai.url, oai_delay=0.0), embedder=demo_embedder())
    try:
        library.harvest_oai(["cs"], FROM, FROM, progress=False, index=False)
        assert library.search.update_index(progress=False) == 3  # the harvest left its papers to the embedding job
        library.harvest_oai(["cs"], date(2024, 12, 2), UNTIL, progress=False)
        assert library.search.update_index(progress=False) == 0  # the harvest embedded its six papers itself
    finally:
        library.close()


def test_no_records_match_is_an_empty_harvest(lib: Library, oai: FakeOai) -> None:
    (h,) = lib.harvest_oai(["cs"], date(2020, 1, 1), date(2020, 1, 2), progress=False, index=False).harvests
    assert (h.pages, h.records, h.complete) == (1, 0, True)
    assert load_state(lib.store.meta, "cs", "arXiv")["harvested_up_to"] == "2020-01-02"


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize("code", ["badArgument", "noSetHierarchy", "cannotDisseminateFormat"])
def test_oai_errors_name_their_code(code: str, status: int, oai: FakeOai) -> None:
    _, headers, body = error(code, "arXiv says no")
    oai.once[1] = (status, headers, body)  # OAI-PMH sends errors with 200; a server may use 400 as well
    with client(oai) as c, pytest.raises(OaiError, match=f"OAI-PMH error {code}: arXiv says no") as caught:
        c.list_records(list_params("cs", "arXiv", FROM, UNTIL), "page 1")
    assert caught.value.code == code


def test_bad_sets_formats_and_dates_fail_before_any_request(oai: FakeOai) -> None:
    for args, message in (
        (("hep-th", "arXiv", FROM, UNTIL), "not an arXiv OAI-PMH set"),
        (("cs", "oai_dc", FROM, UNTIL), "unknown OAI-PMH metadata format"),
        (("cs", "arXiv", UNTIL, FROM), "starts after it ends"),
    ):
        with pytest.raises(SourceError, match=message):
            list_params(*args)
    config = Config(categories="cs.LG hep-th astro-ph.GA stat.ML cs.CL")
    assert configured_sets(config) == ["cs", "physics:hep-th", "physics:astro-ph", "stat"]
    assert configured_sets(dataclasses.replace(config, oai_sets="math physics:hep-th")) == ["math", "physics:hep-th"]
    assert oai.seen == []


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_503_retry_after_is_honoured(form: str, oai: FakeOai) -> None:
    wait = "1" if form == "seconds" else format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    slack = 0.0 if form == "seconds" else 0.1  # an HTTP-date has whole seconds: 2 s ahead is 1 s away or more
    oai.once[2] = (503, {"Retry-After": wait}, b"busy, come back later")
    with client(oai) as c:
        page = c.list_records(list_params("cs", "arXiv", FROM, UNTIL), "page 1")
        assert page.token is not None
        c.list_records({"verb": "ListRecords", "resumptionToken": page.token}, "page 2")
    assert [s.params.get("resumptionToken") for s in oai.seen] == [None, page.token, page.token]
    assert oai.gaps()[1] >= 1.0 - slack


def test_503_without_end_gives_up_with_a_clear_error() -> None:
    busy = LocalServer(handler=lambda path, params: (503, {"Retry-After": "0"}, b"busy"))
    gave_up = r"page 1: HTTP 503 \(gave up after 2 retries"
    with serve(busy), client(busy, retries=2) as c, pytest.raises(SourceError, match=gave_up):
        c.list_records(list_params("cs", "arXiv", FROM, UNTIL), "page 1")
    assert len(busy.seen) == 3


def test_requests_are_spaced_by_the_delay(oai: FakeOai) -> None:
    with client(oai, delay=0.2) as c:
        params = list_params("cs", "arXiv", FROM, UNTIL)
        while (page := c.list_records(params, "page")).token:
            params = {"verb": "ListRecords", "resumptionToken": page.token}
    assert len(oai.seen) == 4
    assert min(oai.gaps()) >= 0.19  # 0.2 s between starts; arrival times can differ by a few microseconds more


# -- hostile XML --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", ["billion_laughs.xml", "external_entity.xml"])
def test_hostile_page_is_refused_and_what_was_stored_stays(payload: str, lib: Library, oai: FakeOai) -> None:
    oai.once[2] = (200, XML, (FIXTURES / payload).read_bytes())
    with pytest.raises(SourceError, match="refused hostile XML: OAI-PMH set cs page 2") as caught:
        lib.harvest_oai(["cs"], FROM, UNTIL, progress=False, index=False)
    assert len(stored(lib)) == 3  # page 1's records, nothing of page 2 (2412.07777)
    assert caught.value.report.harvests[0].added == 3  # type: ignore[attr-defined]
    state = load_state(lib.store.meta, "cs", "arXiv")
    assert (state["token"], state["pages"]) == (oai.issued[0], 1)
    report = lib.harvest_oai(["cs"], FROM, UNTIL, progress=False, index=False)  # the next run goes on from page 2
    assert report.harvests[0].resumed_from == oai.issued[0] and len(stored(lib)) == 9


def test_an_expired_saved_token_restarts_the_window(
    lib: Library, oai: FakeOai, caplog: pytest.LogCaptureFixture
) -> None:
    oai.once[3] = error("badArgument", "something went wrong")
    with pytest.raises(OaiError):
        lib.harvest_oai(["cs"], FROM, UNTIL, progress=False, index=False)
    saved = load_state(lib.store.meta, "cs", "arXiv")["token"]
    oai.expired.add(saved)
    with caplog.at_level(logging.WARNING):
        (h,) = lib.harvest_oai(["cs"], FROM, UNTIL, progress=False, index=False).harvests
    assert "saved resumption token expired" in caplog.text
    assert (h.resumed_from, h.restarted, h.complete, h.pages) == (saved, True, True, 4)
    assert "from" in oai.seen[-4].params and len(stored(lib)) == 9
    assert "restarted" in h.summary()


# -- one paper from several sources -------------------------------------------------------------------------------
def test_api_and_oai_record_are_one_paper_at_its_newest_version(lib: Library, oai: FakeOai) -> None:
    first_day = date(2024, 11, 20)
    with arxiv_by_id() as api:
        api.add(FakePaper("2411.01000", "Paper number 0", at(1, 11), version=2))
        lib.ingest(arxiv_id_lookup(["2411.01000"], base_url=api.url, delay=0), added_at=first_day, index=False)
    lib.harvest_oai(["cs"], FROM, date(2024, 12, 1), progress=False, index=False)  # arXiv format: version unknown
    assert stored(lib)[0] == ("2411.01000", 2, "Paper number 0", first_day)
    assert lib.papers.get("2411.01000").source == "arxiv"  # type: ignore[union-attr]  # kept, not downgraded
    oai.papers[0].versions += (at(1),)  # a third version, harvested in arXivRaw
    (h,) = lib.harvest_oai(["cs"], FROM, date(2024, 12, 1), "arXivRaw", progress=False, index=False).harvests
    assert h.updated == 3  # this one, and the two the arXiv format stored without a version now have one
    assert stored(lib)[0] == ("2411.01000", 3, "Paper number 0", first_day)
    with arxiv_by_id() as api:  # the API's v2 again: v3 stays
        api.add(FakePaper("2411.01000", "Paper number 0", at(1, 11), version=2))
        report = lib.ingest(arxiv_id_lookup(["2411.01000"], base_url=api.url, delay=0), index=False)
    assert report.unchanged == 1 and stored(lib)[0] == ("2411.01000", 3, "Paper number 0", first_day)


# -- killed mid-harvest -------------------------------------------------------------------------------------------
def _command(config: Config, oai: FakeOai) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_DATA_DIR=str(config.data_dir), DAILYPAPERS_DATABASE_URL=config.database_url,
               DAILYPAPERS_OAI_URL=oai.url, DAILYPAPERS_OAI_DELAY="0")  # fmt: skip
    args = ["ingest", "oai", "--set", "cs", "--from", "2024-12-01", "--until", "2024-12-03", "--format", "arXivRaw"]
    return [sys.executable, "-m", "dailypapers", *args, "--no-index"], env


@pytest.fixture
def clean_config(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """A second fresh database of the backend under test, for the clean run to compare with."""
    if backend == "sqlite":
        return Config(password_hash="cheapest", data_dir=tmp_path / "clean")
    import psycopg

    from tests.pg import schema_uri

    server = request.getfixturevalue("postgres_server")
    name = f"clean_{uuid.uuid4().hex[:12]}"

    def sql(statement: str) -> None:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(statement)

    sql(f"CREATE SCHEMA {name}")
    request.addfinalizer(lambda: sql(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    return Config(password_hash="cheapest", data_dir=tmp_path / "clean", database_url=schema_uri(server, name))


@pytest.mark.slow
def test_killed_harvest_resumes_from_its_token_and_ends_as_a_clean_run(
    db_config: Config, clean_config: Config, oai: FakeOai
) -> None:
    oai.hold_page = 3
    command, env = _command(db_config, oai)
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert oai.holding.wait(60), "the harvest never reached page 3"
        os.kill(proc.pid, signal.SIGKILL)  # mid-request: pages 1 and 2 are stored and page 2's token committed
        proc.wait(30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    saved = oai.issued[1]  # the token of page 3, committed after page 2
    oai.hold_page = None
    oai.release.set()
    seen_before = len(oai.seen)
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resumed from token: yes" in done.stdout and "pages 2," in done.stdout
    again = oai.seen[seen_before:]
    assert again[0].params == {"verb": "ListRecords", "resumptionToken": saved}  # page 3, not a restart
    assert all("from" not in s.params for s in again)

    resumed = open_store(db_config)
    clean = Library(dataclasses.replace(clean_config, oai_url=oai.url, oai_delay=0.0))
    try:
        clean.init()
        clean.harvest_oai(["cs"], FROM, UNTIL, "arXivRaw", progress=False, index=False)
        killed_then_resumed = stored(resumed)
        assert killed_then_resumed == stored(clean)
        assert [p[0] for p in killed_then_resumed] == [f"2411.{1000 + n:05d}" for n in range(9)]  # no duplicates
        state = json.loads(resumed.meta.get("oai:arXivRaw:cs") or "{}")
        assert (state["harvested_up_to"], state["pages"], state["records"]) == ("2024-12-03", 4, 10)
    finally:
        clean.close()
        resumed.close()
