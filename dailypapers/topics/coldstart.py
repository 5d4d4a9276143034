"""A first visit that learns your taste: which papers to ask a new reader to rate, so that "For you" learns fastest.

A round asks about :data:`ROUND` papers. **Diverse first:** while some topics of the map have no rated paper, the
round takes the most typical paper (nearest its topic's centroid) of each such topic, largest topics first, so a
reader's first answers cover the field rather than its biggest corner. **Then the uncertain ones:** among the papers
close to what the reader liked (the top quarter by similarity to their nearest liked paper), those whose nearest
liked and nearest refused papers are about equally close — where one more answer moves the ranking most. With no
refusal yet, the closest unrated papers to the liked ones (a "yes" there is the likeliest, and "For you" needs
positives); with nothing liked yet, the next most typical paper of each topic in turn. A reader may pick topics on
the map first (``topics``): then the round starts with those topics' most typical papers. Ratings are stored as the
signals "For you" already reads: "more like this" is an upvote and "not for me" is the feedback of that name
(``lib.votes``, ``lib.feedback``), so the taste model needs no change.

``bench/coldstart.py`` measures how many ratings "For you" needs to reach its full-history quality with this chooser
and with random picks (docs/topics.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

ROUND = 10
NEAR_SHARE = 0.25  # the uncertain ones are looked for among this share of unrated papers nearest a liked one


def typical_per_topic(vectors: np.ndarray, clusters: np.ndarray) -> dict[int, list[int]]:
    """``{topic: its papers' rows, most typical (nearest the topic's centroid) first}``."""
    found: dict[int, list[int]] = {}
    for topic in np.unique(clusters):
        rows = np.flatnonzero(clusters == topic)
        centre = vectors[rows].mean(axis=0)
        found[int(topic)] = rows[np.argsort(-(vectors[rows] @ centre), kind="stable")].tolist()
    return found


def choose(
    vectors: np.ndarray, clusters: np.ndarray, rated: Mapping[int, bool], n: int = ROUND, *,
    typical: dict[int, list[int]] | None = None, topics: Sequence[int] = (),
) -> list[int]:  # fmt: skip
    """Rows of ``vectors`` (unit embeddings; ``clusters``: each row's topic) to ask about next, given the answers
    so far (``rated``: row → liked) and the topics the reader picked (``topics``)."""
    typical = typical if typical is not None else typical_per_topic(vectors, clusters)
    if topics and not any(rated.values()):  # the picked topics' typical papers until one is liked
        chosen = {t: typical[t] for t in topics if t in typical}
        first = _round_robin(chosen, rated, set(), clusters, n)
        if len(first) == n:
            return first
        return first + choose(vectors, clusters, {**rated, **{r: False for r in first}}, n - len(first),
                              typical=typical)  # fmt: skip
    picks: list[int] = []
    covered = {int(clusters[r]) for r in rated}
    for topic in sorted(typical, key=lambda t: -len(typical[t])):  # largest topics first
        if topic in covered:
            continue
        row = next((r for r in typical[topic] if r not in rated), None)
        if row is not None:
            picks.append(row)
        if len(picks) == n:
            return picks
    if not any(rated.values()):  # nothing liked yet: keep covering, the next most typical paper of each topic
        return picks + _round_robin(typical, rated, set(picks), clusters, n - len(picks))
    return picks + _uncertain(vectors, rated, set(picks), n - len(picks))


def _round_robin(
    typical: dict[int, list[int]], rated: Mapping[int, bool], taken: set[int], clusters: np.ndarray, n: int
) -> list[int]:
    """The next unrated paper of each topic in turn, the topics with the fewest refusals first."""
    refusals = {t: sum(1 for r in rated if int(clusters[r]) == t) for t in typical}
    queues = {t: [r for r in rows if r not in rated and r not in taken] for t, rows in typical.items()}
    picks: list[int] = []
    while len(picks) < n and any(queues.values()):
        for topic in sorted(queues, key=lambda t: (refusals[t], -len(typical[t]))):
            if queues[topic] and len(picks) < n:
                picks.append(queues[topic].pop(0))
                refusals[topic] += 1
    return picks


def _uncertain(vectors: np.ndarray, rated: Mapping[int, bool], taken: set[int], n: int) -> list[int]:
    if n <= 0:
        return []
    liked = [r for r, ok in rated.items() if ok]
    refused = [r for r, ok in rated.items() if not ok]
    open_rows = np.array([r for r in range(len(vectors)) if r not in rated and r not in taken], np.int64)
    if len(open_rows) == 0:
        return []
    near_liked = (vectors[open_rows] @ vectors[liked].T).max(axis=1)
    if not refused:
        return open_rows[np.argsort(-near_liked, kind="stable")[:n]].tolist()
    near = np.argsort(-near_liked, kind="stable")[: max(n, int(len(open_rows) * NEAR_SHARE))]
    margin = np.abs(near_liked[near] - (vectors[open_rows[near]] @ vectors[refused].T).max(axis=1))
    return open_rows[near[np.argsort(margin, kind="stable")[:n]]].tolist()
