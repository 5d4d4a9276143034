"""Fusing several rankings of the same papers into one.

Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009) is the baseline: each list adds
``weight / (k + rank)`` for every paper it ranks, so agreement between the keyword and the vector ranking wins
and neither list's raw score scale matters. It is a pure function of ranks so that it is easy to test and to
replace with a better fusion later.

:func:`fusion_weights` weighs the two rankings by the kind of query: a few keywords, or a long text (a pasted
abstract). The weights were chosen by measurement on the hand-judged relevance set (``bench/search_quality.py``,
the sweep in docs/search.md), not by guessing.
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


KEYWORD_WEIGHTS = (1.5, 1.0)
"""(keyword, vector) weights for a short query (words, a title, a sentence). On the relevance set, keyword weights
1.5 and 2 both beat 1 on every kind of short query that was not already perfect (mean nDCG@10 0.925 -> 0.935), and
1.5 is the smaller change."""
LONG_TEXT_WEIGHTS = (1.0, 1.0)
"""(keyword, vector) weights for a long text (more distinct terms than one keyword query takes): no weight from 0.5
to 2 did better than equal weights on the long-text kinds by more than the noise of a few queries."""


def fusion_weights(long_text: bool) -> tuple[float, float]:
    """The (keyword, vector) weights of :func:`reciprocal_rank_fusion` for a short query or a long text."""
    return LONG_TEXT_WEIGHTS if long_text else KEYWORD_WEIGHTS
