"""Synthetic corpora for benchmarks, shaped like the demo corpus but of any size.

Each synthetic paper is drawn around one real demo paper (its "topic"): its title and abstract resample that
paper's words (with some words from the whole corpus vocabulary mixed in), and its vector lies near the real
embedding of the topic paper, within one of its sub-groups (:class:`Vectors`). So keyword and vector rankings agree
the way they do on real data, vectors form clusters like real embeddings do, and queries taken from demo titles have
true answers.
Deterministic for a given seed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from dailypapers.demo import DEMO_CORPUS
from dailypapers.papers.models import Paper

ROOT = Path(__file__).resolve().parents[1]
DEMO = DEMO_CORPUS
CACHE = ROOT / "bench" / "data"
CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.IR", "cs.RO", "math.OC"]
FIRST = ["Ana", "Wei", "Lena", "Ravi", "Sofia", "Kenji", "Amara", "Tom", "Yara", "Ivan", "Mei", "Omar"]
LAST = ["Garcia", "Chen", "Okafor", "Müller", "Rossi", "Tanaka", "Singh", "Novak", "Haddad", "Kim", "Silva"]


@dataclass
class Demo:
    titles: list[str]
    abstracts: list[str]
    vectors: np.ndarray  # real all-MiniLM-L6-v2 embeddings of the demo papers, float32 [n, 384]


def load_demo(embed: bool = True) -> Demo:
    """The demo corpus with its real embeddings (computed once and cached under bench/data/); ``embed=False``: its
    texts without vectors when none are cached (what a test of the judged queries needs, in any order)."""
    rows = [json.loads(line) for line in DEMO.read_text().splitlines() if line.strip()]
    titles = [r["title"] for r in rows]
    abstracts = [" ".join(r["abstract"].split()) for r in rows]
    cache = CACHE / "demo_vectors.npy"
    if cache.exists():
        vectors = np.load(cache)
    elif embed:
        from dailypapers.search.vectors.embedder import MiniLMEmbedder

        vectors = MiniLMEmbedder().embed([f"{t}. {a}" for t, a in zip(titles, abstracts, strict=True)])
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")  # whole or absent: two runs may race
        with partial.open("wb") as fh:
            np.save(fh, vectors)
        os.replace(partial, cache)
    else:  # the texts alone (no vectors: shape (n, 0)), whether or not an earlier run cached them
        vectors = np.zeros((len(titles), 0), dtype=np.float32)
    return Demo(titles, abstracts, vectors.astype(np.float32))


class Vectors:
    """Embeddings shaped like real ones: topic → subtopic → paper, with noise drawn along the real corpus's spread.

    Real sentence embeddings are neither isotropic nor one blob per topic: they vary mostly along a few hundred
    directions (the spread of the corpus itself), and within a topic papers form sub-groups. Isotropic noise around
    298 topic vectors made every topic a ball of near-equidistant points, where "the 10 nearest" is decided by
    noise (a worst case for any ANN index). Here each of the 298 real demo embeddings gets ``subtopics`` sub-centres,
    and each paper is a sub-centre plus noise; both noises follow the principal directions of the demo
    embeddings (their covariance), with a little isotropic noise on top. Scales: a paper keeps cosine ≈ 0.75 to its
    topic's real embedding, about what an abstract has to the abstract of a close paper.
    """

    def __init__(self, demo: Demo, rng: np.random.Generator, *, subtopics: int = 64) -> None:
        base = demo.vectors.astype(np.float64)
        centred = base - base.mean(axis=0)
        _, sing, vt = np.linalg.svd(centred, full_matrices=False)
        scale = sing / np.sqrt(len(base))  # standard deviation along each principal direction
        self._basis = (scale[:, None] * vt / np.sqrt(np.sum(scale**2))).astype(np.float32)  # unit expected norm
        self.dim = base.shape[1]
        self.subtopics = subtopics
        topics = np.repeat(demo.vectors, subtopics, axis=0)
        self._centres = _normalise(topics + self._noise(rng, len(topics), 0.55, 0.15))

    def _noise(self, rng: np.random.Generator, n: int, shaped: float, flat: float) -> np.ndarray:
        along = rng.standard_normal((n, self._basis.shape[0]), dtype=np.float32) @ self._basis
        iso = rng.standard_normal((n, self.dim), dtype=np.float32) / np.sqrt(self.dim)
        return (shaped * along + flat * iso).astype(np.float32)

    def paper(self, rng: np.random.Generator, topic: int) -> np.ndarray:
        centre = self._centres[topic * self.subtopics + int(rng.integers(self.subtopics))]
        return _normalise(centre + self._noise(rng, 1, 0.45, 0.12)[0])


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def synthetic(demo: Demo, n: int, *, seed: int = 0, start: date = date(2025, 1, 1)) -> Iterator[
    tuple[Paper, np.ndarray]
]:  # fmt: skip
    """``n`` synthetic ``(Paper, vector)`` pairs, spread over ~one year of daily lists (≈ n/365 papers a day)."""
    rng = np.random.default_rng(seed)
    vectors = Vectors(demo, np.random.default_rng([seed, 1]))
    title_words = [t.split() for t in demo.titles]
    words = [a.split() for a in demo.abstracts]
    vocab = [w for ws in words for w in ws]
    per_day = max(1, n // 365)
    # Upvotes from a stream of their own, so the papers' other draws stay what they were: most papers get none or
    # a few, a few get hundreds (Zipf, as on Hugging Face's daily list), which gives the trending order work to do.
    upvotes = np.minimum(np.random.default_rng([seed, 2]).zipf(2.0, size=n) - 1, 5000).tolist()
    month, month_start = "", 0
    for i in range(n):  # per-paper draws are vectorised: ~5x faster than one rng call per word
        topic = int(rng.integers(len(demo.titles)))
        tw, aw = title_words[topic], words[topic]
        keep = np.sort(rng.choice(len(tw), size=min(len(tw), max(3, len(tw) * 2 // 3)), replace=False))
        own = rng.integers(len(aw), size=min(len(aw), 120)).tolist()
        swap = (rng.random(len(own)) < 0.2).tolist()
        other = rng.integers(len(vocab), size=len(own)).tolist()
        names = rng.integers(len(FIRST), size=3).tolist(), rng.integers(len(LAST), size=3).tolist()
        day = start + timedelta(days=i // per_day)
        published = datetime(day.year, day.month, day.day, 17, 0, tzinfo=UTC) - timedelta(days=1)
        yymm = f"{day.year % 100:02d}{day.month:02d}"
        if yymm != month:  # arXiv-style ids numbered within each month (5 digits up to 100k papers a month)
            month, month_start = yymm, i
        cats = [CATEGORIES[topic % len(CATEGORIES)], CATEGORIES[int(rng.integers(len(CATEGORIES)))]]
        paper = Paper(
            id=f"{yymm}.{i - month_start:05d}",
            title=f"{' '.join(tw[j] for j in keep)} ({i})",
            abstract=" ".join(vocab[o] if s else aw[j] for j, s, o in zip(own, swap, other, strict=True)),
            version=1,
            authors=[f"{FIRST[f]} {LAST[la]}" for f, la in zip(*names, strict=True)],
            categories=list(dict.fromkeys(cats)),
            primary_category=cats[0],
            published=published,
            added_at=day,
            upvotes=int(upvotes[i]),
            source="bench",
        )
        yield paper, vectors.paper(rng, topic)
