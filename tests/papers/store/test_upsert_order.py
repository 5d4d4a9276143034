"""The upsert rule on a batch whose writes depend on their order, on each backend (both write the plan of
:func:`dailypapers.papers.upsert.plan_upsert` in batch order)."""

from __future__ import annotations

from datetime import date

from dailypapers.papers.models import make_paper
from dailypapers.papers.store import Store


def test_a_later_paper_may_take_the_id_an_earlier_one_renamed_away(store: Store) -> None:
    day = date(2026, 1, 5)
    plain = make_paper(title="Old Title", abstract="No id yet.", source="jsonl", added_at=day)
    store.upsert_papers([plain])
    first = store.get_paper(plain.id)
    assert first is not None
    batch = [
        make_paper(title="Old Title", abstract="v1.", arxiv_id="2411.01234v1", source="arxiv", added_at=day),
        make_paper(title="New Title", abstract="v2.", arxiv_id="2411.01234v2", source="arxiv", added_at=day),
        plain,  # neither its id nor its title is stored any more: a paper of its own again
    ]
    counts = store.upsert_papers(batch)
    assert (counts.added, counts.updated, counts.unchanged) == (1, 2, 0)
    assert store.count_papers() == 2
    merged = store.get_paper("2411.01234")
    assert merged is not None and (merged.pk, merged.version, merged.title) == (first.pk, 2, "New Title")
    again = store.get_paper(plain.id)
    assert again is not None and again.pk != first.pk and again.abstract == "No id yet."
