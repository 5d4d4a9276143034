"""The map's geometry: 2-D positions from embeddings, topic clusters, and new papers placed by their neighbours.

* **Layout** — scikit-learn's t-SNE (Barnes-Hut) on the embeddings reduced to 50 dimensions by PCA (the usual
  preprocessing: it removes noise and makes the neighbour search cheap), initialised from the PCA so that it is
  stable, with a fixed seed so that it is deterministic. At most :data:`FIT_SAMPLE` papers, drawn with the seed, are
  laid out by t-SNE; every other paper is placed like a new one (:func:`place_near`), which bounds the cost: 100k
  papers in a few minutes on 2 cores (``bench/topics.py``). UMAP was measured and not kept: numba compiles its
  functions in every new process (17–35 s on the 298-paper demo on 2 shared cores, against ~3 s for t-SNE) and
  brings numba + llvmlite (~130 MB) for one job.
* **Clusters** — k-means on the (unit) embeddings themselves, not on the 2-D picture: every paper gets a topic (no
  noise class) and the topics are of a similar size. HDBSCAN (scikit-learn) was measured on the demo and not kept:
  on 50 PCA dimensions it called 185 of 298 papers noise.
* **Placement** — a new paper goes to the similarity-weighted mean of its :data:`NEIGHBOURS` nearest placed
  papers (cosine), and to the cluster most of that weight votes for; nothing else moves.

Positions are scaled to [0, 1] on both axes (the aspect ratio kept), so that clients never need the raw scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from threadpoolctl import threadpool_limits

FIT_SAMPLE = 20_000  # papers laid out by t-SNE itself; the rest are placed by their neighbours
NEIGHBOURS = 10
PCA_DIMS = 50
CHUNK = 4096  # rows of a similarity block in place_near: 4096 x 20k float32 = 320 MB at most


def cluster_count(n: int) -> int:
    """How many topics for ``n`` papers: about sqrt(n / 2), between 2 and 80 (12 on the demo, 80 at 100k)."""
    return max(2, min(80, round(math.sqrt(n / 2)))) if n >= 4 else 1


def _pca(vectors: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    dims = min(PCA_DIMS, vectors.shape[0], vectors.shape[1])
    return PCA(dims, random_state=seed).fit_transform(vectors).astype(np.float32)


def _tsne(reduced: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    n = reduced.shape[0]
    if n < 4:  # t-SNE needs more points than its perplexity; a handful sit on a line
        return np.stack([np.arange(n, dtype=np.float32), np.zeros(n, np.float32)], axis=1)
    perplexity = float(min(30, max(2, (n - 1) / 3)))
    tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, learning_rate="auto")
    # One BLAS/OpenMP thread: on shared cores, more threads made the demo's t-SNE 7x slower (3 s against 21 s).
    with threadpool_limits(1):
        return tsne.fit_transform(reduced).astype(np.float32)


def scale_unit(xy: np.ndarray) -> np.ndarray:
    """``xy`` moved and scaled into [0, 1] x [0, 1], the aspect ratio kept (centred on the shorter axis)."""
    if len(xy) == 0:
        return xy.astype(np.float32)
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = float((high - low).max()) or 1.0
    out = (xy - low) / span
    out += (1.0 - (high - low) / span) / 2
    return out.astype(np.float32)


def layout(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """``float32[n, 2]`` in [0, 1] for unit ``vectors`` (n x dim): t-SNE on a seeded sample, the rest placed."""
    n = len(vectors)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    rng = np.random.default_rng(seed)
    fit = np.sort(rng.choice(n, FIT_SAMPLE, replace=False)) if n > FIT_SAMPLE else np.arange(n)
    xy = np.zeros((n, 2), np.float32)
    xy[fit] = _tsne(_pca(vectors[fit], seed), seed)
    rest = np.setdiff1d(np.arange(n), fit)
    if len(rest):
        xy[rest], _ = place_near(vectors[fit], xy[fit], None, vectors[rest])
    return scale_unit(xy)


def clusters(vectors: np.ndarray, seed: int = 0, k: int | None = None) -> np.ndarray:
    """``int32[n]``: each paper's topic (0 .. k-1), k-means on the unit vectors with a fixed seed."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    n = len(vectors)
    k = min(k or cluster_count(n), n)
    if k <= 1:
        return np.zeros(n, np.int32)
    # Full k-means to 20k papers (0.1 s on the demo); mini-batches above (100k x 80 topics in seconds).
    model = (
        KMeans(k, random_state=seed, n_init=4)
        if n <= 20_000
        else MiniBatchKMeans(k, random_state=seed, n_init=3, batch_size=4096)
    )
    with threadpool_limits(1):
        return model.fit_predict(vectors).astype(np.int32)


def _top_neighbours(known: np.ndarray, new: np.ndarray, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per chunk of ``new``: (indices into ``known`` of the k most similar, their cosine similarities)."""
    k = min(k, len(known))
    for start in range(0, len(new), CHUNK):
        sims = new[start : start + CHUNK] @ known.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        yield top, np.take_along_axis(sims, top, axis=1)


def place_near(
    known: np.ndarray,
    known_xy: np.ndarray,
    known_cluster: np.ndarray | None,
    new: np.ndarray,
    k: int = NEIGHBOURS,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (``float32[m, 2]``) and clusters (``int32[m]``, -1 without ``known_cluster``) of ``new`` vectors:
    the similarity-weighted mean of their ``k`` nearest ``known`` papers' positions, and the cluster with most of
    that weight. Similarities are clipped at a small positive floor so that a weight is never zero or negative."""
    xy = np.zeros((len(new), 2), np.float32)
    cluster = np.full(len(new), -1, np.int32)
    if len(known) == 0 or len(new) == 0:
        return xy, cluster
    row = 0
    for top, sims in _top_neighbours(known, new, k):
        weights = np.clip(sims, 1e-3, None) ** 4  # sharpen: the nearest neighbours pull hardest
        weights /= weights.sum(axis=1, keepdims=True)
        xy[row : row + len(top)] = np.einsum("mk,mkd->md", weights, known_xy[top])
        if known_cluster is not None:
            for i, (idx, w) in enumerate(zip(top, weights, strict=True)):
                votes = np.bincount(known_cluster[idx], weights=w)
                cluster[row + i] = int(votes.argmax())
        row += len(top)
    return xy, cluster
