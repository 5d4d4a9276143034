"""The "added since" filter (``Filters.added_since``/``added_until``: the day a paper was added here, not its own
date), on each backend: keyword, semantic and hybrid search through the search service (so SQLite's FTS5 and
hnswlib-with-``filter_pks`` paths and PostgreSQL's tsvector and pgvector-in-SQL paths), the common-words window
of the keyword planner, ``GET``/``POST /api/search``, the ``/search`` page and ``dailypapers search``.

Every paper here has an old publication date (2012-2019): a display-date filter could not tell the days apart.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.store import Filters
from dailypapers.web.app import create_app
from tests.demo import cli_env, demo_embedder

OLD_DAY, NEW_DAY = date(2026, 11, 16), date(2026, 11, 17)
HINTON, ADAM, STRINGS = "1207.0580", "1412.6980", "hep-th/9901001"
MULTI, UNITS, QCD = "1905.09788", "2401.00001", "2401.00002"
PASSWORD = "correct horse battery"


def _paper(arxiv_id: str, title: str, abstract: str, year: int) -> Paper:
    return make_paper(arxiv_id=arxiv_id, title=title, abstract=abstract, source="jsonl",
                      published=datetime(year, 6, 1, 12, tzinfo=UTC))  # fmt: skip


def old_papers() -> list[Paper]:
    """Added on ``OLD_DAY``: one dropout paper and two on other subjects."""
    return [
        _paper(HINTON, "Improving neural networks by preventing co-adaptation of feature detectors",
               "Randomly omitting half of the feature detectors on each training case, dropout, prevents complex "
               "co-adaptations and reduces overfitting.", 2012),
        _paper(ADAM, "Adam: A Method for Stochastic Optimization",
               "We introduce Adam, an algorithm for first-order gradient-based optimization of stochastic objective "
               "functions.", 2014),
        _paper(STRINGS, "Dualities of Strings on Curved Backgrounds",
               "We study dualities of string theories on curved backgrounds.", 2015),
    ]  # fmt: skip


def new_papers() -> list[Paper]:
    """Added on ``NEW_DAY``: a dropout paper, one on dropout in other words (no "dropout" in it), and physics."""
    return [
        _paper(MULTI, "Multi-Sample Dropout for Accelerated Training and Better Generalization",
               "Dropout is a simple but efficient regularization technique for achieving better generalization of "
               "deep neural networks.", 2019),
        _paper(UNITS, "Randomly silencing hidden units while training a network",
               "We randomly switch off a fraction of the hidden units of a neural network at every training step, "
               "which prevents co-adaptation of features and reduces overfitting.", 2019),
        _paper(QCD, "Lattice Quantum Chromodynamics at Finite Temperature",
               "We compute the equation of state of strongly interacting matter on the lattice with dynamical "
               "quarks.", 2018),
    ]  # fmt: skip


def two_day_library(config: Config) -> Library:
    """A library of :func:`old_papers` added on ``OLD_DAY`` and :func:`new_papers` on ``NEW_DAY``, indexed."""
    lib = Library(config, embedder=demo_embedder())
    lib.init()
    lib.ingest(old_papers(), added_at=OLD_DAY, progress=False)
    lib.ingest(new_papers(), added_at=NEW_DAY, progress=False)
    return lib


@pytest.fixture
def lib(db_config: Config) -> Iterator[Library]:
    library = two_day_library(db_config)
    yield library
    library.close()


def found(lib: Library, query: str, mode: str, **days: date) -> set[str]:
    filters = dataclasses.replace(Filters(), **days)  # type: ignore[arg-type]  # dates only: the day filters
    return {r.paper.id for r in lib.search.query(query, filters=filters, mode=mode).results}


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_a_paper_added_on_a_day_is_found_from_that_day_and_not_the_next(lib: Library, mode: str) -> None:
    assert {HINTON, MULTI} <= found(lib, "dropout", mode)  # unfiltered: both dropout papers
    on_new_day = found(lib, "dropout", mode, added_since=NEW_DAY)
    assert MULTI in on_new_day and not on_new_day & {HINTON, ADAM, STRINGS}
    assert found(lib, "dropout", mode, added_since=NEW_DAY + timedelta(days=1)) == set()
    until_old = found(lib, "dropout", mode, added_until=OLD_DAY)
    assert HINTON in until_old and not until_old & {MULTI, UNITS, QCD}
    assert MULTI in found(lib, "dropout", mode, added_since=NEW_DAY, added_until=NEW_DAY)
    # The display date is another filter: every paper is dated years before it was added.
    assert found(lib, "dropout", mode, since=OLD_DAY) == set()
    assert MULTI in found(lib, "dropout", mode, since=date(2019, 1, 1), added_since=NEW_DAY)


def test_the_common_words_window_ends_at_the_newest_paper_added_within_the_days(lib: Library) -> None:
    # "neural" is in 3 papers: over a budget of 2 it is a common word, searched only among the newest 2 x 2 rows
    # up to the newest one the filters allow; the 3 old papers are keys 1-3, so from the newest of all (6) the
    # window would miss the old one that has the word.
    lib.store.keyword_budget = 2
    pks = {i: p.pk for i in (HINTON, ADAM, STRINGS, MULTI) if (p := lib.papers.get(i))}
    assert lib.store.filter_pks(Filters(added_until=OLD_DAY)) == {pks[HINTON], pks[ADAM], pks[STRINGS]}
    assert [h.pk for h in lib.store.keyword_search("neural", 10, Filters(added_until=OLD_DAY))] == [pks[HINTON]]
    assert pks[MULTI] in {h.pk for h in lib.store.keyword_search("neural", 10, Filters(added_since=NEW_DAY))}
    assert lib.store.keyword_search("neural", 10, Filters(added_since=NEW_DAY + timedelta(days=1))) == []


def test_api_get_and_post_and_the_page_filter_by_the_day_added(lib: Library) -> None:
    user = lib.accounts.create_user("ann", "ann@example.org", PASSWORD)
    bearer = {"Authorization": f"Bearer {lib.accounts.create_token(user, 'tests')[0]}"}
    with TestClient(create_app(lib)) as client:
        for day, expected in ((NEW_DAY, True), (NEW_DAY + timedelta(days=1), False)):
            got = client.get("/api/search", params={"q": "dropout", "added_since": day.isoformat()})
            assert got.status_code == 200
            ids = {r["id"] for r in got.json()["results"]}
            assert (MULTI in ids) is expected and HINTON not in ids
            assert got.json()["filters"]["added_since"] == day.isoformat()
            body = {"q": "dropout", "added_since": day.isoformat(), "mode": "keyword"}
            posted = client.post("/api/search", json=body, headers=bearer)
            assert posted.status_code == 200, posted.text
            assert ({r["id"] for r in posted.json()["results"]} == {MULTI}) is expected
        page = client.get("/search", params={"q": "dropout", "added_since": NEW_DAY.isoformat(), "added_until": ""})
        assert page.status_code == 200 and f'name="added_since" value="{NEW_DAY.isoformat()}"' in page.text
        assert "Accelerated Training" in page.text and "preventing co-adaptation" not in page.text
        for params, message in (
            ({"added_since": "2026-13-01"}, "'added_since' must be a date (YYYY-MM-DD)."),
            ({"added_until": "yesterday"}, "'added_until' must be a date (YYYY-MM-DD)."),
            ({"added_since": "2026-11-18", "added_until": "2026-11-17"}, "'added_since' must not be later than"),
        ):
            for path in ("/api/search", "/search"):
                bad = client.get(path, params={"q": "dropout", **params})
                assert bad.status_code == 400 and message in html.unescape(bad.text), (path, params, bad.text[:300])
        bad_post = client.post("/api/search", json={"q": "dropout", "added_since": "17/11/2026"}, headers=bearer)
        assert bad_post.status_code == 400 and "'added_since' must be a date" in bad_post.json()["error"]


def test_cli_search_added_since(lib: Library, db_config: Config) -> None:
    run = CliRunner()
    args = ["search", "--json", "--mode", "keyword", "dropout", "--added-since"]
    on_day = run.invoke(main, [*args, NEW_DAY.isoformat()], env=cli_env(db_config))
    assert on_day.exit_code == 0, on_day.output
    assert [r["id"] for r in json.loads(on_day.output)["results"]] == [MULTI]
    after = run.invoke(main, [*args, (NEW_DAY + timedelta(days=1)).isoformat()], env=cli_env(db_config))
    assert after.exit_code == 0 and json.loads(after.output)["results"] == []
    until = run.invoke(main, ["search", "dropout", "--mode", "keyword", "--added-until", OLD_DAY.isoformat()],
                       env=cli_env(db_config))  # fmt: skip
    assert until.exit_code == 0 and "co-adaptation" in until.output and "Multi-Sample" not in until.output
    bad = run.invoke(main, [*args, "2026-11-31"], env=cli_env(db_config))
    assert bad.exit_code == 2 and "--added-since" in bad.output
