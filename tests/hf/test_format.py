"""The pure parts: HF date strings, the shapes built from a paper, Markdown, and the trending score and order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from huggingface_hub.hf_api import PaperInfo

from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.trending import paper_score, trending, trending_score
from dailypapers.web.hf_format import daily_item, flat_paper, hf_datetime, paper_markdown

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def paper(title: str, upvotes: int = 0, added: date | None = date(2026, 11, 20), **fields: object) -> Paper:
    return make_paper(
        title=title,
        abstract=f"About {title}.",
        source="jsonl",
        upvotes=upvotes,
        added_at=added,
        **fields,  # type: ignore[arg-type]
    )


def test_hf_datetime_has_milliseconds_and_a_literal_z() -> None:
    assert hf_datetime(datetime(2021, 6, 17, 17, 37, 18, 123456, tzinfo=UTC)) == "2021-06-17T17:37:18.123Z"
    plus_two = timezone(timedelta(hours=2))
    assert hf_datetime(datetime(2021, 6, 17, 19, 37, 18, tzinfo=plus_two)) == "2021-06-17T17:37:18.000Z"
    assert hf_datetime(datetime(2021, 6, 17)) == "2021-06-17T00:00:00.000Z"


def test_item_and_flat_object_parse_in_the_client() -> None:
    p = paper("Sparse Mixtures", upvotes=3, arxiv_id="2401.00001v3", authors=["A. Author", "B. Author"],
              published=datetime(2024, 1, 1, 9, 30, tzinfo=UTC), categories=["cs.LG"])  # fmt: skip
    item = PaperInfo(**daily_item(p).model_dump(mode="json"))
    flat = PaperInfo(**flat_paper(p).model_dump(mode="json"))
    for info in (item, flat):
        assert info.id == "2401.00001"
        assert info.title == "Sparse Mixtures"
        assert info.published_at == datetime(2024, 1, 1, 9, 30, tzinfo=UTC)
        assert info.submitted_at == datetime(2026, 11, 20, tzinfo=UTC)
        assert info.upvotes == 3
        assert info.authors is not None and [a.name for a in info.authors] == ["A. Author", "B. Author"]
        assert info.submitted_by is not None and info.submitted_by.username == "dailypapers"
    no_date = PaperInfo(**daily_item(paper("Undated")).model_dump(mode="json"))
    assert no_date.published_at == no_date.submitted_at == datetime(2026, 11, 20, tzinfo=UTC)


def test_markdown_escapes_markup_but_keeps_the_abstract() -> None:
    p = make_paper(title="A *bold* [claim]", abstract="We prove $x_1 < x_2$.", authors=["Ann <Lee>"], source="jsonl")
    text = paper_markdown(p, "http://example.org/papers/x")
    assert text.startswith("# A \\*bold\\* \\[claim\\]\n")
    assert "**Authors:** Ann \\<Lee\\>" in text
    assert "We prove $x_1 < x_2$." in text
    assert "- dailypapers: <http://example.org/papers/x>" in text


def test_trending_score() -> None:
    assert trending_score(0, 5) == 0
    assert trending_score(10, 0) == pytest.approx(10 / 2**1.5)
    assert trending_score(10, -30) == trending_score(10, 0)  # dated in the future: as if brand new
    # twice as old needs about 2.8 times the upvotes
    assert trending_score(28, 198) == pytest.approx(trending_score(10, 98), rel=0.02)
    assert paper_score(paper("x", upvotes=4, added=date(2026, 11, 21)), NOW) == pytest.approx(4 / 14**1.5)


def test_trending_order() -> None:
    fresh = paper("fresh", upvotes=5, added=date(2026, 11, 21))
    old_popular = paper("old popular", upvotes=50, added=date(2026, 11, 1))
    older_zero = paper("older zero", added=date(2026, 11, 19))
    newer_zero = paper("newer zero", added=date(2026, 11, 20))
    order = trending([older_zero, old_popular, newer_zero, fresh], NOW)
    assert [p.title for p in order] == ["fresh", "old popular", "newer zero", "older zero"]
    with pytest.raises(ValueError):
        trending([fresh], datetime(2026, 11, 21))
