"""``huggingface_hub.HfApi`` against the real server: every papers call returns the right data.

These are the calls researchers' scripts make with ``HF_ENDPOINT`` pointing at dailypapers; each test asserts on
the ``PaperInfo`` objects the client builds, not on our JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError
from huggingface_hub.hf_api import PaperInfo

from dailypapers.papers.periods import parse_day, parse_week
from dailypapers.papers.trending import trending
from tests.demo import DEMO_DAYS, DROPOUT_TITLE
from tests.hf.papers import LORA, LORA_AUTHORS, HfDemo, day_start

FAKE_TOKEN = "hf_" + "x" * 34


@pytest.fixture
def api(hf_demo: HfDemo, hf_env: dict[str, str]) -> HfApi:
    return HfApi(endpoint=hf_demo.base_url, token=False)


def ids(papers: Iterable[PaperInfo]) -> list[str]:
    return [p.id for p in papers]


# -- paper_info -----------------------------------------------------------------------------------------------------
def test_paper_info_arxiv_paper(api: HfApi) -> None:
    info = api.paper_info("2106.09685")
    assert info.id == "2106.09685"
    assert info.title == LORA["title"]
    assert info.summary is not None and info.summary.startswith("An important paradigm")
    assert info.authors is not None
    assert [a.name for a in info.authors] == LORA_AUTHORS
    assert all(a.hidden is False and a.user is None for a in info.authors)
    assert info.published_at == datetime(2021, 6, 17, 17, 37, 18, tzinfo=UTC)
    assert info.published_at.tzinfo is not None
    assert info.submitted_at == day_start(DEMO_DAYS[-1])
    assert info.upvotes == 42
    assert info.comments == 0
    assert info.discussion_id == "2106.09685"
    assert info.github_repo == "https://github.com/microsoft/LoRA"
    assert info.submitted_by is not None and info.submitted_by.username == "dailypapers"
    assert info.submitted_by.fullname == "dailypapers importer"
    # dailypapers' own fields come along as extra attributes
    assert info.categories == ["cs.CL", "cs.AI", "cs.LG"]  # type: ignore[attr-defined]
    assert info.absUrl == "https://arxiv.org/abs/2106.09685"  # type: ignore[attr-defined]
    assert info.addedAt == DEMO_DAYS[-1].isoformat()  # type: ignore[attr-defined]
    assert info.version == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("paper_id", ["2106.09685v1", "2106.09685v2", "arXiv:2106.09685"])
def test_paper_info_resolves_other_forms_of_the_id(api: HfApi, paper_id: str) -> None:
    assert api.paper_info(paper_id).id == "2106.09685"


def test_paper_info_old_style_id_and_demo_paper(api: HfApi, hf_demo: HfDemo) -> None:
    old = api.paper_info("hep-th/9711200")
    assert old.id == "hep-th/9711200"
    assert old.published_at == datetime(1997, 11, 27, tzinfo=UTC)
    assert old.journalRef == "Adv.Theor.Math.Phys.2:231-252,1998"  # type: ignore[attr-defined]
    dropout = hf_demo.library.store.find_by_title(DROPOUT_TITLE)
    assert dropout is not None
    info = api.paper_info(dropout.id)
    assert (info.id, info.title, info.upvotes) == (dropout.id, DROPOUT_TITLE, 0)
    assert [a.name for a in info.authors or []] == dropout.authors == ["Hiroshi Inoue"]  # the packaged demo's
    assert dropout.added_at is not None and dropout.published is not None
    # published: its arXiv date; submitted to the daily list: the day it entered the list
    assert info.published_at == datetime(2019, 5, 23, tzinfo=UTC)
    assert info.submitted_at == day_start(dropout.added_at)


def test_paper_info_unknown_is_404_with_message(api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as err:
        api.paper_info("2401.99999")
    assert err.value.response.status_code == 404
    assert "There is no paper with id '2401.99999'" in str(err.value)


# -- list_papers ------------------------------------------------------------------------------------------------------
def test_list_papers_by_title_id_and_words(api: HfApi) -> None:
    by_title = list(api.list_papers(query=DROPOUT_TITLE))
    assert by_title[0].title == DROPOUT_TITLE
    assert by_title[0].submitted_by is not None
    by_id = list(api.list_papers(query="2106.09685", limit=3))
    assert by_id[0].id == "2106.09685"
    assert by_id[0].published_at == datetime(2021, 6, 17, 17, 37, 18, tzinfo=UTC)
    assert by_id[0].submitted_at == day_start(DEMO_DAYS[-1])
    assert by_id[0].upvotes == 42
    assert len(by_id) <= 3
    words = list(api.list_papers(query="low-rank adaptation of large language models", limit=5))
    assert 1 <= len(words) <= 5
    assert "2106.09685" in ids(words)


def test_list_papers_without_query_lists_newest(api: HfApi, hf_demo: HfDemo) -> None:
    papers = list(api.list_papers(limit=10))
    assert len(papers) == 10
    assert all(p.submitted_at == day_start(DEMO_DAYS[-1]) for p in papers)


def test_list_papers_rejects_long_query(api: HfApi) -> None:
    with pytest.raises(BadRequestError) as err:
        list(api.list_papers(query="x" * 10001))
    assert "'q' must be at most 10000 characters" in str(err.value)
    assert len(list(api.list_papers(query="attention " * 1000))) > 0  # exactly 10,000 is fine


# -- list_daily_papers --------------------------------------------------------------------------------------------
def test_daily_papers_by_date(api: HfApi, hf_demo: HfDemo) -> None:
    for day in DEMO_DAYS:
        expected = hf_demo.library.papers.in_period(parse_day(day.isoformat()))
        got = list(api.list_daily_papers(date=day.isoformat(), limit=100))
        assert ids(got) == [p.id for p in expected][:100]
        assert all(p.submitted_at == day_start(day) for p in got)
        assert all(p.submitted_at is not None and p.submitted_at.tzinfo is not None for p in got)
    last = {p.id: p for p in api.list_daily_papers(date=DEMO_DAYS[-1].isoformat(), limit=100)}
    lora = last["2106.09685"]
    assert (lora.title, lora.upvotes, lora.github_repo) == (LORA["title"], 42, "https://github.com/microsoft/LoRA")
    assert lora.published_at == datetime(2021, 6, 17, 17, 37, 18, tzinfo=UTC)
    assert lora.authors is not None and [a.name for a in lora.authors] == LORA_AUTHORS
    assert list(api.list_daily_papers(date="2020-01-01")) == []


def test_daily_papers_by_week_month_and_submitter(api: HfApi, hf_demo: HfDemo) -> None:
    total = hf_demo.library.papers.count()
    week = list(api.list_daily_papers(week="2026-W47", limit=100))
    month = list(api.list_daily_papers(month="2026-11", limit=100))
    assert ids(week) == ids(month) and len(week) == 100
    assert [p.submitted_at for p in week] == sorted((p.submitted_at for p in week), reverse=True)  # type: ignore[type-var]
    assert list(api.list_daily_papers(week="2026-W46")) == []
    assert list(api.list_daily_papers(month="2026-10")) == []
    mine = list(api.list_daily_papers(submitter="dailypapers", limit=100))
    assert ids(mine) == ids(week)
    assert list(api.list_daily_papers(submitter="akhaliq")) == []
    # filters intersect
    both = list(api.list_daily_papers(date=DEMO_DAYS[0].isoformat(), week="2026-W47", limit=100))
    assert {p.submitted_at for p in both} == {day_start(DEMO_DAYS[0])}
    assert list(api.list_daily_papers(date=DEMO_DAYS[0].isoformat(), month="2026-12")) == []
    assert total > 100


def test_daily_papers_paging_covers_everything_once(api: HfApi, hf_demo: HfDemo) -> None:
    total = hf_demo.library.papers.count()
    for sort in ("publishedAt", "trending"):
        seen: list[str] = []
        page = 0
        while batch := list(api.list_daily_papers(week="2026-W47", sort=sort, p=page, limit=40)):  # type: ignore[arg-type]
            assert len(batch) <= 40
            seen += ids(batch)
            page += 1
        assert len(seen) == len(set(seen)) == total, sort
        assert page == -(-total // 40)
    assert list(api.list_daily_papers(p=10_000, limit=100)) == []


def test_daily_papers_default_sort_is_newest_added_first(api: HfApi, hf_demo: HfDemo) -> None:
    default = list(api.list_daily_papers())
    assert len(default) == 50
    assert ids(default) == ids(api.list_daily_papers(sort="publishedAt"))
    assert {p.submitted_at for p in default} == {day_start(DEMO_DAYS[-1])}


def test_daily_papers_trending(api: HfApi, hf_demo: HfDemo) -> None:
    week = hf_demo.library.papers.in_period(parse_week("2026-W47"))
    got = list(api.list_daily_papers(week="2026-W47", sort="trending", limit=100))
    expected = trending(week, datetime.now(UTC))[:100]
    assert ids(got) == [p.id for p in expected]
    upvoted = [p.id for p in got if p.upvotes]
    assert set(upvoted) == {"2106.09685", "1706.03762", "hep-th/9711200"}
    assert ids(got)[:3] == upvoted  # upvoted papers lead, then the rest newest first
    assert got[3].submitted_at == day_start(DEMO_DAYS[-1])
    # without a filter, the recent window is ranked the same way
    assert ids(api.list_daily_papers(sort="trending", limit=100)) == ids(got)


def test_daily_papers_invalid_filters_are_400(api: HfApi) -> None:
    for kwargs in ({"date": "2026-13-01"}, {"date": "yesterday"}, {"week": "2026-W60"}, {"month": "2026-1"},
                   {"limit": 0}, {"limit": 101}, {"p": -1}, {"sort": "hot"}):  # fmt: skip
        with pytest.raises(BadRequestError) as err:
            list(api.list_daily_papers(**kwargs))  # type: ignore[arg-type]
        assert err.value.response.status_code == 400
        name = next(iter(kwargs))
        assert f"'{name}'" in str(err.value), (kwargs, str(err.value))


def test_unknown_token_is_ignored(hf_demo: HfDemo, hf_env: dict[str, str]) -> None:
    api = HfApi(endpoint=hf_demo.base_url, token=FAKE_TOKEN)
    assert len(list(api.list_daily_papers(date=DEMO_DAYS[1].isoformat(), limit=5))) == 5
    assert ids(api.list_papers(query="2106.09685", limit=1)) == ["2106.09685"]
    assert api.paper_info("2106.09685").upvotes == 42
    assert "# LoRA" in api.read_paper("2106.09685")


# -- read_paper -------------------------------------------------------------------------------------------------------
def test_read_paper(api: HfApi) -> None:
    text = api.read_paper("2106.09685v2")
    assert text.startswith("# LoRA: Low-Rank Adaptation of Large Language Models\n")
    assert "Edward J. Hu, Yelong Shen" in text
    assert "An important paradigm of natural language processing" in text
    assert "<https://arxiv.org/abs/2106.09685>" in text
    assert "<https://github.com/microsoft/LoRA>" in text
    assert "Maldacena" in api.read_paper("hep-th/9711200")
    with pytest.raises(HfHubHTTPError) as err:
        api.read_paper("2401.99999")
    assert err.value.response.status_code == 404
    assert "There is no paper" in str(err.value)
