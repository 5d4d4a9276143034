"""Key phrases and a key sentence per paper, extracted (never written) with the bundled embedding model.

Key phrases, KeyBERT's recipe with our own model: the candidates are the 1–3-word phrases of the title and abstract
that neither start nor end with a stop word (the text is cut at stop words and punctuation, as RAKE does, and every
1–3-word run of a piece is a candidate; a single word only if it occurs twice or in the title), at most
:data:`MAX_CANDIDATES` of them (the most frequent, the title's counted twice). Each candidate is embedded, scored
by its cosine to the paper's own embedding, and :data:`PHRASES` are chosen by maximal marginal relevance (MMR):
each next phrase maximises ``(1 - DIVERSITY) * cos(phrase, paper) - DIVERSITY * max cos(phrase, chosen)``, so
"diffusion model" and "diffusion models" do not both win. YAKE (statistical, no model) was compared on the demo
(``bench/keyphrases.py``, numbers in docs/topics.md) and not kept.

The key sentence ("In one sentence", the Hugging Face API's ``ai_summary``): the abstract's sentence most central
among its sentences, by the mean cosine of its embedding to the other sentences' and to the paper's embedding.
Nothing is generated: both are pieces of the authors' text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

MAX_CANDIDATES = 32  # bounds the model's work per paper (~32 short texts + the sentences) however long the abstract
PHRASES = 5
DIVERSITY = 0.5
MIN_SENTENCE_WORDS = 6
MAX_PHRASE_WORDS = 3

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\\$])")
_PIECES = re.compile(r"[^\w\s\-]+")  # punctuation (other than hyphens) ends a piece
_WORD = re.compile(r"^[a-z][a-z0-9\-]*[a-z0-9]$|^[a-z]$")


@dataclass(frozen=True)
class Extracted:
    """What a paper's text yields: its key phrases (best first) and its key sentence."""

    phrases: list[str]
    sentence: str


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from dailypapers.topics.labels import PROSE_WORDS

    return frozenset(ENGLISH_STOP_WORDS | PROSE_WORDS | {"et", "al", "e", "g", "i", "ie", "eg", "vs", "like", "via"})


STOP_WORDS = _stop_words()


def candidates(title: str, abstract: str, limit: int = MAX_CANDIDATES) -> list[str]:
    """The paper's candidate phrases, most frequent first (title occurrences count twice; ties: first seen)."""
    counts: Counter[str] = Counter()
    for text, weight in ((title, 2), (abstract, 1)):
        for piece in _PIECES.split(text.lower()):
            run: list[str] = []
            for word in [*piece.split(), ""]:  # "" flushes the last run
                if word and word not in STOP_WORDS and _WORD.match(word) and len(word) > 1:
                    run.append(word)
                    continue
                for n in range(1, MAX_PHRASE_WORDS + 1):
                    for i in range(len(run) - n + 1):
                        counts[" ".join(run[i : i + n])] += weight
                run = []
    # A single word must occur twice (or be in the title): once-used words ("largely", "adapting") are style,
    # not subject, and the static model ranks them too close to the paper. Counter keeps insertion order among
    # equal counts, so ties go to the phrase seen first: deterministic.
    kept = [(p, c) for p, c in counts.most_common() if c >= 2 or " " in p]
    return [phrase for phrase, _ in kept[:limit]]


def sentences(abstract: str) -> list[str]:
    """The abstract's sentences (whitespace collapsed)."""
    text = " ".join(abstract.split())
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def mmr(doc: np.ndarray, vectors: np.ndarray, count: int = PHRASES, diversity: float = DIVERSITY) -> list[int]:
    """Indices of ``count`` rows of ``vectors`` chosen by maximal marginal relevance to ``doc`` (unit vectors)."""
    if len(vectors) == 0:
        return []
    relevance = vectors @ doc
    chosen = [int(np.argmax(relevance))]
    similarity = vectors @ vectors.T
    while len(chosen) < min(count, len(vectors)):
        redundancy = similarity[:, chosen].max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen


def key_sentence(doc: np.ndarray, vectors: np.ndarray, texts: Sequence[str]) -> str:
    """The most central of ``texts`` (with their unit ``vectors``): mean cosine to the others and to ``doc``.
    Sentences of fewer than :data:`MIN_SENTENCE_WORDS` words ("Code is available.") are never chosen if a longer
    one exists."""
    if not texts:
        return ""
    similarity = vectors @ vectors.T
    centrality = (similarity.sum(axis=1) - 1 + vectors @ doc) / len(texts)
    long_enough = np.array([len(t.split()) >= MIN_SENTENCE_WORDS for t in texts])
    if long_enough.any():
        centrality[~long_enough] = -np.inf
    return texts[int(np.argmax(centrality))]


def extract_many(
    papers: Sequence[tuple[str, str, np.ndarray | str]],
    embed: Callable[[Sequence[str]], np.ndarray],
) -> list[Extracted]:
    """Key phrases and key sentence of each ``(title, abstract, its embedding or the text to embed)``: one
    ``embed`` call for the candidates and sentences of all of them (the model is fastest on one large batch). A
    paper without a stored embedding gives its embedding text, embedded here."""
    plans: list[tuple[int, list[str], list[str], np.ndarray | None]] = []
    texts: list[str] = []
    for title, abstract, vector in papers:
        phrases, parts = candidates(title, abstract), sentences(abstract)
        start = len(texts)
        texts += phrases + parts
        if isinstance(vector, str):
            texts.append(vector)
        plans.append((start, phrases, parts, None if isinstance(vector, str) else vector))
    vectors = embed(texts) if texts else np.zeros((0, 1), np.float32)
    out = []
    for start, phrases, parts, stored in plans:
        end = start + len(phrases) + len(parts)
        doc = stored if stored is not None else vectors[end]
        phrase_vectors = vectors[start : start + len(phrases)]
        chosen = [phrases[i] for i in mmr(doc, phrase_vectors)]
        out.append(Extracted(chosen, key_sentence(doc, vectors[start + len(phrases) : end], parts)))
    return out
