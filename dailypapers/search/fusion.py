"""Fusing several rankings of the same papers into one.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009) is the baseline: each list adds
``weight / (k + rank)`` for every paper it ranks, so agreement between the keyword and the vector ranking wins
and neither list's raw score scale matters. It is a pure function of ranks so that it is easy to test and to
replace with a better fusion later.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], *, k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Fuse best-first rankings of keys into one best-first list of ``(key, score)``.

    Ties keep the order of first appearance (earlier lists, earlier ranks), so the result is deterministic.
    """
    if k < 0:
        raise ValueError("k must be non-negative")
    if weights is not None and len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + w / (k + rank)
    order = {key: n for n, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
