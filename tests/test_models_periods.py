"""Paper ids, text normalisation, link finding, and day/week/month parsing."""

from datetime import date

import pytest

from dailypapers.papers.models import InvalidRecord, find_links, make_paper, normalize_title, parse_arxiv_id, title_id
from dailypapers.papers.periods import parse_day, parse_month, parse_week


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2106.09685", ("2106.09685", None)),
        ("2106.09685v2", ("2106.09685", 2)),
        ("arXiv:2106.09685v3", ("2106.09685", 3)),
        ("https://arxiv.org/abs/2106.09685v1", ("2106.09685", 1)),
        ("http://arxiv.org/pdf/1706.03762v7.pdf", ("1706.03762", 7)),
        ("hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("math.gt/0309136", ("math.GT/0309136", None)),
        ("not an id", None),
        ("2106.0968", None),
    ],
)
def test_parse_arxiv_id(text: str, expected: tuple[str, int | None] | None) -> None:
    assert parse_arxiv_id(text) == expected


def test_title_ids_are_stable_across_formatting() -> None:
    a = title_id("Attention Is All You Need")
    assert a == title_id("  attention is\nall you  need! ")
    assert a.startswith("dp-") and len(a) == 15
    assert normalize_title("Élan: a Café") == "elan a cafe"
    with pytest.raises(InvalidRecord):
        title_id("  !! ")


def test_make_paper_normalises_and_finds_links() -> None:
    p = make_paper(
        title="A  title\n with breaks",
        abstract="We release code at https://github.com/org/repo. Project: https://example.org/page.",
        arxiv_id="https://arxiv.org/abs/2401.00001v2",
        source="arxiv",
        categories=["cs.LG", "stat.ML"],
    )
    assert p.title == "A title with breaks"
    assert (p.id, p.version, p.primary_category) == ("2401.00001", 2, "cs.LG")
    assert p.code_url == "https://github.com/org/repo"
    assert p.project_url == "https://example.org/page"
    assert find_links("no links") == (None, None)


@pytest.mark.parametrize("fields", [{"title": "", "abstract": "x"}, {"title": "x", "abstract": " "}])
def test_make_paper_rejects_missing_text(fields: dict[str, str]) -> None:
    with pytest.raises(InvalidRecord):
        make_paper(source="jsonl", **fields)  # type: ignore[arg-type]


def test_periods() -> None:
    week = parse_week("2026-W47")
    assert (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.shifted(1).key == "2026-W48"
    month = parse_month("2026-12")
    assert month.end == date(2026, 12, 31) and month.shifted(1).key == "2027-01"
    assert parse_day("2026-11-23").shifted(-1).key == "2026-11-22"
    for bad, parser in [("2026-13-45", parse_day), ("2026-02-30", parse_day), ("2026-W54", parse_week),
                        ("2026-13", parse_month), ("yesterday", parse_day)]:  # fmt: skip
        with pytest.raises(ValueError):
            parser(bad)
