"""The file sources: JSONL (including the demo corpus), the Kaggle arXiv snapshot and Hugging Face daily papers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dailypapers.papers.models import Paper
from dailypapers.papers.sources import Rejected, SourceError, read_hf_daily, read_jsonl, read_kaggle

from .conftest import DEMO_CORPUS, FIXTURES, LocalServer

KAGGLE = FIXTURES / "kaggle_snapshot.json"
HF = FIXTURES / "hf_daily_papers.json"


def split(records: list[Paper | Rejected]) -> tuple[list[Paper], list[Rejected]]:
    return [r for r in records if isinstance(r, Paper)], [r for r in records if isinstance(r, Rejected)]


# -- JSONL ----------------------------------------------------------------------------------------------------


def test_demo_corpus_imports_fully() -> None:
    papers, rejected = split(list(read_jsonl(DEMO_CORPUS)))
    assert len(papers) == 298 and rejected == []
    assert len({p.id for p in papers}) == 298
    assert all(p.source == "jsonl" and p.title and p.abstract for p in papers)
    # arXiv ids where they were found, else the id derived from the title (issue 21, item 23)
    assert sum(p.is_arxiv for p in papers) == 289 and all(p.is_arxiv or p.id.startswith("dp-") for p in papers)
    assert sum(bool(p.authors) for p in papers) == 288 and sum(bool(p.categories) for p in papers) == 201


def test_jsonl_fields_and_rejections() -> None:
    papers, rejected = split(list(read_jsonl(FIXTURES / "papers_small.jsonl")))
    lora, attention, untitled_id = papers
    assert lora.id == "2106.09685" and lora.version is None
    assert lora.authors == ["Edward J. Hu", "Yelong Shen"]
    assert lora.categories == ["cs.CL", "cs.LG"] and lora.primary_category == "cs.CL"
    assert lora.published == datetime(2021, 6, 17, 17, 37, 18, tzinfo=UTC)
    assert lora.code_url == "https://github.com/microsoft/LoRA"
    assert lora.abstract.endswith("weights. Code: https://github.com/microsoft/LoRA.")
    assert attention.id == "1706.03762" and attention.version == 7
    assert attention.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    assert attention.categories == ["cs.CL", "cs.LG"]
    assert attention.published == datetime(2017, 6, 12, tzinfo=UTC)
    assert untitled_id.id.startswith("dp-") and untitled_id.authors == []
    assert [r.position for r in rejected] == ["line 5", "line 6", "line 7", "line 8", "line 9"]  # line 3 is blank
    reasons = [r.reason for r in rejected]
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1] == "expected a JSON object, got list"
    assert reasons[2] == "missing title"
    assert reasons[3] == "not an arXiv id: 'doi:10.1000/xyz'"
    assert reasons[4] == "published is not an ISO date: 'last Tuesday'"


def test_jsonl_accepts_its_own_title_ids(tmp_path: Path) -> None:
    first = next(p for p in read_jsonl(DEMO_CORPUS) if isinstance(p, Paper) and not p.is_arxiv)  # a title id
    assert first.id.startswith("dp-")
    path = tmp_path / "export.jsonl"
    path.write_text(
        f'{{"id": "{first.id}", "title": "{first.title}", "abstract": "x"}}\n'
        f'{{"id": "dp-000000000000", "title": "{first.title}", "abstract": "x"}}\n'
    )
    (ok, bad) = list(read_jsonl(path))
    assert isinstance(ok, Paper) and ok.id == first.id
    assert isinstance(bad, Rejected) and "does not match the title" in bad.reason


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        list(read_jsonl(tmp_path / "nope.jsonl"))
    with pytest.raises(SourceError, match="cannot open"):
        list(read_kaggle(tmp_path / "nope.json"))
    with pytest.raises(SourceError, match="cannot open"):
        list(read_hf_daily(str(tmp_path / "nope.json")))


# -- Kaggle snapshot ------------------------------------------------------------------------------------------


def test_kaggle_records_and_rejections() -> None:
    papers, rejected = split(list(read_kaggle(KAGGLE)))
    assert [p.id for p in papers] == ["0704.0001", "0704.0002", "hep-th/9711200", "2106.09685", "math/0211159"]
    assert [r.position for r in rejected] == ["line 3", "line 5"]
    assert rejected[0].reason.startswith("invalid JSON")
    assert rejected[1].reason == "missing abstract"
    first = papers[0]
    assert first.source == "kaggle"
    assert first.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert first.abstract.startswith("A fully differential calculation in perturbative quantum chromodynamics is pre")
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]  # from authors_parsed
    assert first.published == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert first.updated == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)
    assert first.version == 2
    assert first.categories == ["hep-ph"] and first.primary_category == "hep-ph"
    assert first.comment == "37 pages, 15 figures; published version"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007" and first.doi == "10.1103/PhysRevD.76.013009"
    assert first.abs_url == "https://arxiv.org/abs/0704.0001"
    second, maldacena, lora, perelman = papers[1:]
    assert second.categories == ["math.CO", "cs.CG"] and second.primary_category == "math.CO"
    assert "$(k,\\ell)$-pebble game" in second.abstract  # LaTeX kept as written
    assert second.doi is None and second.journal_ref is None
    assert maldacena.version == 3 and maldacena.updated == datetime(1998, 1, 22, 21, 42, 32, tzinfo=UTC)
    assert maldacena.comment is not None and "\n" not in maldacena.comment
    assert lora.authors[4] == "Yuanzhi Li" and len(lora.authors) == 8
    assert lora.code_url == "https://github.com/microsoft/LoRA"
    assert perelman.authors == ["Grisha Perelman", "John Doe Jr"]  # [last, first, suffix] -> "First Last Suffix"


@pytest.mark.parametrize(
    ("categories", "expected", "rejected_lines"),
    [
        ({"cs.LG"}, ["2106.09685"], ["line 5"]),  # line 5 (Adam, cs.LG) matches but has no abstract
        ({"cs.CG", "hep-th"}, ["0704.0002", "hep-th/9711200"], []),
        ({"math"}, ["0704.0002", "math/0211159"], []),  # an archive matches all its subjects
        ({"astro-ph.GA"}, [], []),
    ],
)
def test_kaggle_category_filter(categories: set[str], expected: list[str], rejected_lines: list[str]) -> None:
    papers, rejected = split(list(read_kaggle(KAGGLE, categories=categories)))
    assert [p.id for p in papers] == expected
    # Records outside the filter are skipped, not rejected, even the broken line 3 (physics.gen-ph).
    assert [r.position for r in rejected] == rejected_lines


def test_kaggle_date_filter_uses_v1_date() -> None:
    ids = [p.id for p in split(list(read_kaggle(KAGGLE, since=date(2007, 4, 1), until=date(2021, 6, 17))))[0]]
    assert ids == ["0704.0001", "2106.09685"]  # 0704.0002's v1 is 2007-03-31 although v2 is later
    ids = [p.id for p in split(list(read_kaggle(KAGGLE, until=date(2002, 12, 31))))[0]]
    assert ids == ["hep-th/9711200", "math/0211159"]


def test_kaggle_streams_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_bytes(KAGGLE.read_bytes() + b'{"id": "\xff\xfe broken bytes"}\n' + b"\n" * 3)
    records = read_kaggle(path)
    first = next(records)
    assert isinstance(first, Paper) and first.id == "0704.0001"
    rest = list(records)
    assert rest[-1] == Rejected("line 8", "not valid UTF-8 at column 9")


# -- Hugging Face daily papers --------------------------------------------------------------------------------


def check_hf(records: list[Paper | Rejected]) -> None:
    papers, rejected = split(records)
    gsm, sppo = papers
    assert gsm.id == "2405.00332" and gsm.source == "hf" and gsm.upvotes == 31
    assert gsm.title == "A Careful Examination of Large Language Model Performance on Grade School Arithmetic"
    assert gsm.authors == ["Hugh Zhang", "Jeff Da", "Dean Lee"]
    assert gsm.published == datetime(2024, 5, 1, 7, 51, 24, tzinfo=UTC)
    assert gsm.added_at == date(2024, 5, 2)
    assert sppo.upvotes == 12 and sppo.added_at == date(2024, 5, 2)
    assert sppo.code_url == "https://github.com/uclaml/SPPO" and sppo.project_url == "https://uclaml.github.io/SPPO/"
    assert [r.position for r in rejected] == ["item 3", "item 4", "item 5"]
    assert rejected[0].reason == "paper.upvotes must be a non-negative integer, got 'many'"
    assert rejected[1].reason == "missing paper object"
    assert rejected[2].reason == "not an arXiv id: 'not-an-arxiv-id'"


def test_hf_daily_from_file() -> None:
    check_hf(list(read_hf_daily(str(HF), timeout=5.0)))


def test_hf_daily_from_url(http_server: LocalServer) -> None:
    check_hf(list(read_hf_daily(f"{http_server.url}/hf_daily_papers.json", timeout=5.0)))
    assert [s.path for s in http_server.seen] == ["/hf_daily_papers.json"]
    with pytest.raises(SourceError, match="HTTP 404"):
        list(read_hf_daily(f"{http_server.url}/missing.json", timeout=5.0))


def test_hf_daily_top_level_must_be_a_list(tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    path.write_text('{"error": "Invalid date"}')
    with pytest.raises(SourceError, match="expected a JSON list"):
        list(read_hf_daily(str(path)))
    path.write_text("[{")
    with pytest.raises(SourceError, match="not valid JSON"):
        list(read_hf_daily(str(path)))
