"""Personal recommendations ("For you"): recent papers ranked for one user, each with a reason and a label.

The model is a centroid/kNN blend on the paper embeddings of the current embedding model, chosen by
``python -m bench.recommend_eval`` (docs/recommendations.md has its numbers: as good as arxiv-sanity's per-request
LinearSVC on the demo corpus, better than kNN-max and the uncentred centroid). A candidate ``x`` (unit vector) scores

    score(x) = ALPHA * cos(x, positive centroid) + (1 - ALPHA) * max_j cos(x, p_j) - BETA * max_k cos(x, n_k)

with every vector first centred on the candidates' mean (the direction all MiniLM embeddings share taken out: the
evaluation's largest gain, +0.08 nDCG@10, which brought the blend level with the SVM at a 300th of its cost),
over the user's positives ``p_j`` (upvoted, saved, authored, seed papers; the :data:`KNN_POSITIVES` most recent)
and "not for me" papers ``n_k`` (:mod:`dailypapers.search.taste` keeps both, updated as the user acts). The nearest
positive is the reason ("similar to <title>, which you upvoted"); the label comes from the score
(:data:`MUST_READ`, :data:`RELATED`, calibrated on the same evaluation).

Candidates are the papers added in the ``recommend_days`` up to the newest day that has papers, not hidden, and
not already among the user's signals. Their embedding matrix is kept per process (:class:`Window`) and rebuilt when
the newest day or the vector index's size changes (checked at most every :data:`FRESH_CHECK_S` seconds), so a
request is a few matrix products (``python -m bench.recommend``). Building it reads the window's keys with one
store query and their vectors straight from the vector index (the SQLite backend's row-aligned, memory-mapped
vector file of the current index generation, shared by every process through the page cache), not one embedding
query per paper: the first call at 100k candidates went from ~9.7 s to the numbers in docs/recommendations.md.

Cold start (no positive with a vector): the window's trending papers that match the user's interests — a keyword
search among recent papers ("matches your interest 'diffusion'"), or one of their categories ("trending in
cs.CL") — and, to fill the page or with no interests at all, plain trending ("trending this week").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select

from dailypapers.db.schema import interests as interests_t
from dailypapers.papers.models import Filters, Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.service import Papers
from dailypapers.papers.store.base import Hit, Store
from dailypapers.search.fusion import gather, papers_of
from dailypapers.search.taste import Taste, Tastes
from dailypapers.search.vectors.base import VectorIndex

try:
    from threadpoolctl import ThreadpoolController

    _BLAS: ThreadpoolController | None = ThreadpoolController()
except ImportError:  # pragma: no cover - see _one_blas_thread
    _BLAS = None

ALPHA = 0.75  # weight of the centroid against the nearest positive (bench/results/recommend_eval.json)
BETA = 0.5  # weight of the nearest "not for me" paper
KNN_POSITIVES = 256  # most recent positives compared one by one (the centroid holds them all)
MUST_READ = 0.43  # score from which half the eval's papers are relevant: "must read" (docs/recommendations.md)
RELATED = 0.30  # ... a quarter: "related"
FRESH_CHECK_S = 15.0  # how often a request checks whether the window's papers changed
KEYWORD_HITS = 500  # keyword matches looked at per interest keyword (then kept if recent)
TRENDING_POOL = 1000  # trending papers of the window a cold start filters by interests
KIND_WORDS = {"upvoted": "you upvoted", "saved": "you saved", "authored": "you wrote", "interest": "you picked"}


@dataclass(frozen=True)
class Pick:
    """One recommended paper: its score, label ("must read", "related" or ""), and a reason a person can check
    (``reason_kind``: "similar", "keyword", "category" or "trending"; ``reason_paper_id``: the paper it is
    similar to)."""

    paper: Paper
    score: float
    label: str
    reason: str
    reason_kind: str
    reason_paper_id: str | None = None


@dataclass(frozen=True)
class Interests:
    """What a user picked for the cold start: arXiv categories, keywords (as written), seed paper ids."""

    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    paper_ids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.categories or self.keywords or self.paper_ids)


def centred(v: np.ndarray, centre: np.ndarray | None, *, inplace: bool = False) -> np.ndarray:
    """Rows of ``v`` minus ``centre`` (the corpus mean), scaled to unit length: cosines between papers then
    measure what sets them apart, not the direction every MiniLM embedding shares (the eval: +0.08 nDCG@10).
    ``inplace``: ``v`` (float32) is overwritten and returned, no copy of a large window is made."""
    if inplace and v.dtype == np.float32:
        out = v
        if centre is not None:
            out -= centre.astype(np.float32)
    else:
        out = (v - centre if centre is not None else v.copy()).astype(np.float32)
    if out.ndim == 2:  # row norms without a temporary the size of the matrix (100k x 384 float32: 150 MB)
        out /= np.maximum(np.sqrt(np.einsum("ij,ij->i", out, out)), 1e-12)[:, None]
    else:
        out /= max(float(np.linalg.norm(out)), 1e-12)
    return out


def blend_scores(
    x: np.ndarray,
    positives: np.ndarray,
    negatives: np.ndarray,
    *,
    centre: np.ndarray | None = None,
    alpha: float = ALPHA,
    beta: float = BETA,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the rows of ``x`` (already :func:`centred`) for these positive and negative vectors (raw
    embeddings), and for each row the index of its nearest positive (the reason). No positives: all 0."""
    n = x.shape[0]
    if positives.shape[0] == 0 or n == 0:
        return np.zeros(n, np.float32), np.zeros(n, np.int64)
    p = positives.shape[0]
    use_neg = bool(negatives.shape[0] and beta)
    parts = [positives, positives.mean(axis=0, keepdims=True), *([negatives] if use_neg else [])]
    # One product against [positives; centroid; negatives]: x (4k x 384 float32, 6 MB) is read once, not thrice.
    sims = x @ centred(np.vstack(parts), centre).T
    nearest = sims[:, :p].argmax(axis=1)
    knn = sims[np.arange(n), nearest]
    score = alpha * sims[:, p] + (1.0 - alpha) * knn
    if use_neg:
        score -= beta * np.maximum(sims[:, p + 1 :].max(axis=1), 0.0)
    return score.astype(np.float32), nearest


def label_for(score: float) -> str:
    return "must read" if score >= MUST_READ else "related" if score >= RELATED else ""


@dataclass
class Window:
    """The recent candidates: their keys (newest first) and embedding matrix."""

    key: tuple[str, date | None, int]
    start: date | None
    pks: np.ndarray
    matrix: np.ndarray  # the candidates' embeddings, centred on their mean and unit length (:func:`centred`)
    centre: np.ndarray | None = None
    checked: float = 0.0


class Recommender:
    """``lib.recommend``: picks for one user (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        papers: Papers,
        tastes: Tastes,
        vectors: Callable[[], VectorIndex],
        *,
        days: int = 14,
    ) -> None:
        self.store = store
        self.papers = papers
        self.tastes = tastes
        self.vectors = vectors
        self.days = max(1, days)
        self._window: Window | None = None
        self._lock = threading.Lock()

    # -- the candidates -----------------------------------------------------------------------------------------
    def window(self) -> Window:
        """The current candidates (rebuilt when the newest day or the index size changed)."""
        now = time.monotonic()
        held = self._window
        if held is not None and now - held.checked < FRESH_CHECK_S:
            return held
        model = self.tastes.model()
        key = (model, self.papers.latest_day(), self.vectors().size())
        with self._lock:
            held = self._window
            if held is None or held.key != key:
                held = self._build(key)
                self._window = held
            held.checked = now
            return held

    def _build(self, key: tuple[str, date | None, int]) -> Window:
        newest = key[1]
        if newest is None:
            return Window(key, None, np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
        return self._matrix_of(key, newest - timedelta(days=self.days - 1), newest)

    def _matrix_of(self, key: tuple[str, date | None, int], start: date, newest: date) -> Window:
        """The papers added from ``start`` to ``newest`` that are shown, with their vectors read from the vector
        index (:meth:`~dailypapers.search.vectors.base.VectorIndex.vectors`): one query for the keys, one read of
        the index's rows, instead of a paper and an embedding query per candidate (9.7 s at 100k candidates)."""
        shown = self.store.filter_pks(Filters(added_since=start, added_until=newest))
        pks = np.sort(np.fromiter(shown, np.int64, len(shown)))[::-1]  # newest first, as the day lists are
        found, raw = self.vectors().vectors(pks)  # a paper not embedded yet is left out until the index has it
        if found.size == 0:
            return Window(key, start, np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
        centre = raw.mean(axis=0)
        return Window(key, start, found, centred(raw, centre, inplace=True), centre)

    def _candidates(self, since: date | None) -> tuple[Window, np.ndarray | None]:
        """The candidates for ``since``, and when it cuts into the window, the mask of those added since."""
        window = self.window()
        newest = window.key[1]
        if since is None or window.start is None or newest is None:
            return window, None
        if since < window.start:  # an older start than the window's: a one-off set of candidates
            return self._matrix_of(window.key, since, newest), None
        if since == window.start:
            return window, None
        recent = self.store.filter_pks(Filters(added_since=since, added_until=newest))
        return window, np.isin(window.pks, np.fromiter(recent, np.int64, len(recent)))

    # -- picks --------------------------------------------------------------------------------------------------
    def picks(self, user_id: str, *, limit: int = 20, since: date | None = None) -> list[Pick]:
        """Up to ``limit`` recent papers for ``user_id``, best first; ``since``: only papers added on or after that
        day (default: the last ``recommend_days`` days that have papers)."""
        limit = max(0, min(int(limit), 200))
        window, since_mask = self._candidates(since)
        if limit == 0 or window.pks.size == 0:
            return []
        taste = self.tastes.get(user_id)
        mask = np.ones(window.pks.size, dtype=bool) if since_mask is None else since_mask
        signals = taste.positives + taste.negatives + taste.pending
        if signals:
            mask &= ~np.isin(window.pks, np.asarray(signals, np.int64))
        if taste.empty:
            return self._cold(user_id, window, mask, limit)
        return self._personal(taste, window, mask, limit)

    def _personal(self, taste: Taste, window: Window, mask: np.ndarray, limit: int) -> list[Pick]:
        recent = taste.positives[-KNN_POSITIVES:]
        positives = self.tastes.matrix(taste.model, recent, taste.dim)
        negatives = self.tastes.matrix(taste.model, taste.negatives[-KNN_POSITIVES:], taste.dim)
        with _one_blas_thread():  # the whole matrix, masked after: a copy of its rows would cost more (6 MB)
            scores, nearest = blend_scores(window.matrix, positives, negatives, centre=window.centre)
        scores[~mask] = -np.inf
        top = _top(scores, min(limit + 10, int(mask.sum())))  # a margin for papers hidden since the window was built
        keys = [int(window.pks[k]) for k in top]
        reasons = {int(k): recent[int(nearest[k])] for k in top}
        found = papers_of(self.store, keys + list(reasons.values()))  # a paper hidden since is not found
        out = []
        for k, pk in zip(top, keys, strict=True):
            if pk not in found:
                continue
            score, near = float(scores[k]), found.get(reasons[int(k)])
            how = KIND_WORDS.get(taste.kind_of(near.pk or 0) if near else "", "you liked")
            reason = f"similar to “{near.title}”, which {how}" if near else "similar to papers you liked"
            out.append(Pick(found[pk], score, label_for(score), reason, "similar", near.id if near else None))
            if len(out) == limit:
                break
        return out

    def _cold(self, user_id: str, window: Window, mask: np.ndarray, limit: int) -> list[Pick]:
        wanted = self.interests_of(user_id)
        allowed = {int(pk) for pk in window.pks[mask]}
        picks: dict[int, Pick] = {}
        newest = window.key[1]
        assert newest is not None and window.start is not None
        trending = self.papers.in_period(Period("window", window.start, newest), limit=TRENDING_POOL, sort="trending")
        recent = Filters(added_since=window.start)  # the day papers were added here, not their publication day
        lists = [  # a keyword search among recent papers per keyword, best match first
            (keyword, [h.pk for h in self._keyword_hits(keyword, recent) if h.pk in allowed])
            for keyword in wanted.keywords
        ]
        lists = [(keyword, hits[:limit]) for keyword, hits in lists]
        found = papers_of(self.store, [pk for _, hits in lists for pk in hits])
        for rank in range(limit):  # round robin: every keyword gets its best matches on the page
            for keyword, hits in lists:
                if rank < len(hits) and hits[rank] in found and hits[rank] not in picks:
                    why = f"matches your interest ‘{keyword}’"
                    picks[hits[rank]] = Pick(found[hits[rank]], 0.0, "related", why, "keyword")
        cats = set(wanted.categories)
        ranked = list(picks.values())
        for paper in trending:
            if len(ranked) >= limit:
                break
            if paper.pk not in allowed or paper.pk in picks:
                continue
            shared = [c for c in paper.categories if c in cats]
            if shared:
                ranked.append(Pick(paper, 0.0, "", f"trending in {shared[0]}", "category"))
                picks[int(paper.pk or 0)] = ranked[-1]
        for paper in trending:  # fill the page: what everybody reads this week
            if len(ranked) >= limit:
                break
            if paper.pk in allowed and paper.pk not in picks:
                ranked.append(Pick(paper, 0.0, "", "trending this week", "trending"))
                picks[int(paper.pk or 0)] = ranked[-1]
        return ranked[:limit]

    def _keyword_hits(self, keyword: str, recent: Filters) -> list[Hit]:
        """The keyword candidates of one interest keyword among recent papers, gathered as search gathers them
        (:func:`dailypapers.search.fusion.gather`)."""
        return gather(self.store, keyword, recent, keyword_depth=KEYWORD_HITS).keyword

    def interests_of(self, user_id: str) -> Interests:
        with self.tastes.db.read() as conn:
            row = conn.execute(select(interests_t).where(interests_t.c.user_id == user_id)).first()
        if row is None:
            return Interests()
        m = row._mapping
        keywords = tuple(k.strip() for k in (m["keywords"] or "").split(",") if k.strip())
        return Interests(tuple((m["categories"] or "").split()), keywords, tuple((m["paper_ids"] or "").split()))


def _one_blas_thread() -> AbstractContextManager[object]:
    """Run the request's matrix products on one BLAS thread: OpenBLAS threads a (4k x 384) x (384 x 10) product
    over every core, and on a busy 2-core server that made it 10x slower (38 ms against 3 ms, measured while the
    benchmark ran); one request per core is the better use of them. threadpoolctl comes with scikit-learn (a
    dependency of sentence-transformers); without it the products run as numpy sets them up."""
    if _BLAS is None:
        return nullcontext()
    return _BLAS.limit(limits=1, user_api="blas")


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (argpartition: O(n), then a sort of ``k``)."""
    k = min(k, scores.size)
    if k == 0:
        return np.zeros(0, np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
