"""Fuzzing the JSON sources (JSONL, the Kaggle snapshot, Hugging Face daily papers): structured records with
hostile fields, and raw bytes. Every input gives papers or per-record rejections; only an unreadable document as a
whole may raise, as :class:`SourceError`."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dailypapers.papers.sources.hf_daily import read_hf_daily
from dailypapers.papers.sources.jsonl import read_jsonl
from dailypapers.papers.sources.kaggle import read_kaggle
from tests.fuzz.strategies import (
    FUZZ,
    arxiv_ids,
    check_records,
    field_values,
    json_values,
    raw_documents,
    record,
    texts,
    words,
)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """One file the examples of a test overwrite (a function-scoped tmp_path is not reset between examples)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        yield Path(folder) / "input"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


dates = st.datetimes().map(lambda d: d.isoformat())
jsonl_record = record(
    {
        "id": field_values(arxiv_ids),
        "title": field_values(words),
        "abstract": field_values(words),
        "authors": field_values(st.lists(texts, max_size=4), texts),
        "categories": field_values(st.lists(st.sampled_from(["cs.LG", "stat.ML", "cs."]), max_size=3), texts),
        "published": field_values(dates),
        "updated": field_values(dates),
        "comment": field_values(texts),
        "journal_ref": field_values(texts),
        "doi": field_values(texts),
    }
)


def _lines(objects: list[Any]) -> bytes:
    return "\n".join(json.dumps(o) for o in objects).encode()


@FUZZ
@given(st.lists(st.one_of(jsonl_record, json_values), max_size=6).map(_lines))
@example(b'{"id": "2401.00001", "title": "T", "abstract": "A", "published": "+999999-01-01T00:00:00"}')
@example(b'{"id": "2401.00001", "title": "T\\u0000", "abstract": "A\\u0000b"}')
def test_jsonl_structured(scratch: Path, data: bytes) -> None:
    check_records(lambda: read_jsonl(_write(scratch, data)))


@FUZZ
@given(raw_documents(st.lists(jsonl_record, min_size=1, max_size=3).map(_lines)))
@example(b"\xef\xbb\xbf" + b'{"title": 1e999}')
@example(b"[" * 100_000)
def test_jsonl_raw_bytes(scratch: Path, data: bytes) -> None:
    check_records(lambda: read_jsonl(_write(scratch, data)))


rfc2822 = st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))
kaggle_record = record(
    {
        "id": field_values(arxiv_ids),
        "title": field_values(words),
        "abstract": field_values(words),
        "authors": field_values(texts),
        "authors_parsed": field_values(st.lists(st.lists(texts, max_size=4), max_size=3)),
        "versions": field_values(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "version": field_values(st.from_regex(r"\Av[1-9][0-9]?\Z")),
                        "created": field_values(rfc2822),
                    },
                ),
                max_size=3,
            )
        ),
        "update_date": field_values(st.dates().map(str)),
        "categories": field_values(st.sampled_from(["cs.LG", "math.CO cs.CG", "cs"]), texts),
        "comments": field_values(texts),
        "journal-ref": field_values(texts),
        "doi": field_values(texts),
    }
)


@FUZZ
@given(
    st.lists(st.one_of(kaggle_record, json_values), max_size=6).map(_lines),
    st.one_of(st.none(), st.sets(st.sampled_from(["cs", "cs.LG", "math.CO", 'a"b', "é"]), max_size=2)),
    st.one_of(st.none(), st.dates()),
)
def test_kaggle_structured(scratch: Path, data: bytes, categories: set[str] | None, since: Any) -> None:
    check_records(lambda: read_kaggle(_write(scratch, data), categories=categories, since=since))


@FUZZ
@given(raw_documents(st.lists(kaggle_record, min_size=1, max_size=3).map(_lines)))
def test_kaggle_raw_bytes(scratch: Path, data: bytes) -> None:
    check_records(lambda: read_kaggle(_write(scratch, data)))


hf_paper = record(
    {
        "id": field_values(arxiv_ids),
        "title": field_values(words),
        "summary": field_values(words),
        "authors": field_values(st.lists(st.one_of(st.fixed_dictionaries({"name": field_values()}), texts))),
        "publishedAt": field_values(dates),
        "submittedOnDailyAt": field_values(dates),
        "upvotes": field_values(st.integers(min_value=-5, max_value=10**12)),
        "githubRepo": field_values(st.just("https://github.com/x/y"), st.just("javascript:alert(1)")),
        "projectPage": field_values(st.just("http://example.org")),
    },
    required=("id", "title", "summary"),
)
hf_item = record(
    {"paper": field_values(hf_paper), "title": field_values(), "submittedOnDailyAt": field_values(dates)},
    required=("paper",),
)


@FUZZ
@given(st.one_of(st.lists(st.one_of(hf_item, json_values), max_size=5), json_values).map(lambda d: json.dumps(d)))
def test_hf_daily_structured(scratch: Path, document: str) -> None:
    check_records(lambda: read_hf_daily(_write(scratch, document.encode())))


@FUZZ
@given(raw_documents(st.lists(hf_item, min_size=1, max_size=3).map(lambda d: json.dumps(d).encode())))
def test_hf_daily_raw_bytes(scratch: Path, data: bytes) -> None:
    check_records(lambda: read_hf_daily(_write(scratch, data)))
