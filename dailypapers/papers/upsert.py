"""Planning a batch upsert in memory: which papers are added, updated or kept, given the stored rows they can match.

The rule, applied paper by paper in batch
order: a paper matches the stored row with its id, else (title id ↔ arXiv id) the lowest-key row with its
normalised title when either id is a title id; a title-only record never replaces an arXiv one; ``decide`` says
add, update or keep; upvotes never decrease. Later papers in the batch see the effect of earlier ones.
This is the only place the rule is written: both stores fetch every row a batch can match (by id and by normalised
title, :func:`match_keys`), plan here, and write the plan in bulk.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dailypapers.papers.models import TITLE_ID_PREFIX, Paper, normalize_title
from dailypapers.papers.rows import decide, paper_to_row
from dailypapers.papers.store.base import UpsertCounts

# Stored-row columns the plan needs.
PLAN_COLUMNS = ("pk", "id", "title_norm", "version", "content_hash", "upvotes")
_NEW = 1 << 62  # sort keys of planned rows: after every stored key, in batch order


@dataclass
class Slot:
    """A stored row, or one the plan adds (``pk`` is None until the caller allocates it)."""

    pk: int | None
    order: int
    id: str
    title_norm: str
    version: int | None
    content_hash: str
    upvotes: int


@dataclass
class Step:
    """One write: ``kind`` "add" (insert ``row``) or "update" (``row`` replaces ``slot``'s row, ``added_at`` kept)."""

    kind: str
    paper: Paper
    row: dict[str, Any]
    slot: Slot = field(repr=False)


def match_keys(papers: Sequence[Paper]) -> tuple[list[str], list[str]]:
    """The ids and the normalised titles of ``papers``, in batch order: a stored row can match by either."""
    return [p.id for p in papers], [normalize_title(p.title) for p in papers]


def plan_upsert(
    papers: Sequence[Paper], stored: Iterable[Mapping[str, Any]], norms: Sequence[str] | None = None
) -> tuple[list[Step], UpsertCounts]:
    """The writes that upserting ``papers`` takes, given ``stored`` rows (every row with one of their ids or titles).

    ``norms``: the papers' normalised titles when the caller has them already (from :func:`match_keys`).
    """
    if norms is None:
        norms = match_keys(papers)[1]
    by_id: dict[str, Slot] = {}
    by_norm: dict[str, list[Slot]] = defaultdict(list)
    for r in stored:
        slot = Slot(r["pk"], r["pk"], r["id"], r["title_norm"], r["version"], r["content_hash"], r["upvotes"])
        by_id[slot.id] = slot
        by_norm[slot.title_norm].append(slot)
    new_keys = itertools.count(_NEW)
    steps: list[Step] = []
    counts = UpsertCounts()
    for paper, norm in zip(papers, norms, strict=True):
        match = by_id.get(paper.id)
        if match is None:  # the same paper under its title id (imported without arXiv id), or vice versa
            title_id = paper.id.startswith(TITLE_ID_PREFIX)
            candidates = [s for s in by_norm.get(norm, ()) if title_id or s.id.startswith(TITLE_ID_PREFIX)]
            match = min(candidates, key=lambda s: s.order, default=None)
            if match is not None and not paper.is_arxiv:
                counts.unchanged += 1  # the stored arXiv record is the richer one
                continue
        state = None if match is None else vars(match)
        action = decide(state, paper)
        if action == "keep":
            counts.unchanged += 1
            continue
        row = paper_to_row(paper)
        if match is None:
            match = Slot(None, next(new_keys), paper.id, norm, paper.version, row["content_hash"], row["upvotes"])
            by_id[match.id] = match
            by_norm[norm].append(match)
            steps.append(Step("add", paper, row, match))
            counts.added += 1
            continue
        row["upvotes"] = max(row["upvotes"], match.upvotes)
        if match.id != paper.id:
            del by_id[match.id]
            by_id[paper.id] = match
        if match.title_norm != norm:
            by_norm[match.title_norm].remove(match)
            by_norm[norm].append(match)
        match.id, match.title_norm, match.version = paper.id, norm, paper.version
        match.content_hash, match.upvotes = row["content_hash"], row["upvotes"]
        steps.append(Step("update", paper, row, match))
        counts.updated += 1
    return steps, counts
