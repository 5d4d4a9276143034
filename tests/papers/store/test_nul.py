"""A NUL character in what the stores are asked (issue 21 item 18), on each backend: PostgreSQL text cannot hold one,
so its store refuses it as the caller's mistake (:class:`BadInput`, a 400 on the web, a message in the CLI), never a
``psycopg.DataError``; on SQLite it is a character like another, which no paper has. The web refuses a NUL before
any store is asked (``tests/web/test_errors.py``): this is the second line, for every other caller.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from dailypapers.errors import BadInput
from dailypapers.papers.models import Filters, make_paper
from dailypapers.papers.store import Store

ASKS: dict[str, Callable[[Store], Any]] = {
    "get_paper": lambda s: s.get_paper("2106.09685\x00"),
    "find_by_title": lambda s: s.find_by_title("Low-Rank\x00 Adaptation"),
    "keyword_search": lambda s: s.keyword_search("low\x00rank", 10),
    "author filter": lambda s: s.filter_pks(Filters(author="Hu\x00")),
    "category filter": lambda s: s.keyword_search("adaptation", 10, Filters(category="cs.CL\x00")),
}


@pytest.mark.parametrize("ask", list(ASKS))
def test_a_nul_is_an_answer_or_bad_input_never_a_database_error(store: Store, ask: str) -> None:
    paper = make_paper(arxiv_id="2106.09685", title="LoRA: Low-Rank Adaptation", abstract="Low-rank adaptation.",
                       authors=["Edward J. Hu"], categories=["cs.CL"], source="arxiv")  # fmt: skip
    paper.added_at = date(2026, 11, 20)
    store.upsert_papers([paper])
    try:
        ASKS[ask](store)  # some asks never send the NUL (search terms are words; a title is normalised first)
    except BadInput as exc:
        assert store.backend == "postgres" and "NUL character" in str(exc), exc
    if store.backend == "postgres" and ask in ("get_paper", "author filter", "category filter"):
        with pytest.raises(BadInput, match="NUL character"):
            ASKS[ask](store)
    assert store.get_paper("2106.09685") is not None  # the store still answers
