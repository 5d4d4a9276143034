"""Similar papers: the nearest neighbours of a paper's embedding, itself and hidden papers excluded (the vector
index's candidates and the fetch of :mod:`dailypapers.search.fusion` both leave hidden papers out)."""

from __future__ import annotations

from dailypapers.papers.models import Paper
from dailypapers.papers.store.base import Store
from dailypapers.search.fusion import ranked_papers
from dailypapers.search.vectors.base import VectorIndex


def similar_papers(store: Store, vectors: VectorIndex, paper: Paper, k: int = 10) -> list[tuple[Paper, float]]:
    """The ``k`` papers most similar to ``paper`` by embedding, with their cosine similarity."""
    if paper.pk is None:
        return []
    return ranked_papers(store, [(h.pk, h.score) for h in vectors.similar(paper.pk, k)])
