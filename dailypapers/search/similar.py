"""Similar papers: the nearest neighbours of a paper's embedding, itself and hidden papers excluded."""

from __future__ import annotations

from dailypapers.papers.hidden import hidden_among
from dailypapers.papers.models import Paper
from dailypapers.papers.store.base import Store
from dailypapers.search.vectors.base import VectorIndex


def similar_papers(store: Store, vectors: VectorIndex, paper: Paper, k: int = 10) -> list[tuple[Paper, float]]:
    """The ``k`` papers most similar to ``paper`` by embedding, with their cosine similarity."""
    if paper.pk is None:
        return []
    hits = vectors.similar(paper.pk, k)
    gone = hidden_among(store.db, [h.pk for h in hits])  # papers an admin hid are never suggested
    papers = {p.pk: p for p in store.get_papers_by_pk([h.pk for h in hits if h.pk not in gone])}
    return [(papers[h.pk], h.score) for h in hits if h.pk in papers]
