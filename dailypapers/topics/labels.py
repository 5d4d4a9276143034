"""A topic's label: its most distinctive terms by class-based tf-idf (c-TF-IDF, as BERTopic labels its topics).

All texts of a topic are one "document"; a term's weight in a topic is its frequency there (normalised by the
topic's length) times ``log(1 + A / f)``, where ``A`` is the average number of words per topic and ``f`` the
term's frequency over all topics. Terms frequent everywhere ("model", "method") score low; terms frequent in one
topic score high. Unigrams and bigrams, English stop words and a short list of words every abstract uses removed; a
unigram is dropped when a higher-ranked bigram already holds it ("diffusion" after "diffusion models").
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

# Words of scientific prose that say nothing about a topic (they top raw counts in every cluster of the demo).
PROSE_WORDS = frozenset(
    "paper propose proposed proposes approach method methods results result show shows demonstrate based novel "
    "new work existing using use used task tasks performance state art achieve achieves significantly "
    "framework experiments extensive effectiveness code available github https com problem study including "
    "address various different introduce present significant improve improves improved models model".split()
)
# Unigrams too broad to name a topic, left out of labels but kept in the counts (so "continual learning" stays a
# bigram: CountVectorizer drops stop words before it makes n-grams).
BROAD_WORDS = frozenset("learning neural network networks training data deep large".split())
LABEL_TERMS = 4


def _vectorizer(n_docs: int):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    return CountVectorizer(
        ngram_range=(1, 2),
        stop_words=sorted(ENGLISH_STOP_WORDS | PROSE_WORDS),
        min_df=2 if n_docs >= 20 else 1,
        max_features=200_000,  # bounds memory at 100k abstracts; rarer terms cannot label a topic anyway
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9\-]+\b",
        lowercase=True,
    )


def class_tfidf(texts: list[str], labels: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``(weights[topics, terms], terms, topic ids)``: c-TF-IDF of ``texts`` grouped by ``labels``."""
    topics = np.unique(labels)
    if not texts or len(topics) == 0:
        return np.zeros((0, 0)), [], topics
    vectorizer = _vectorizer(len(texts))
    counts = vectorizer.fit_transform(texts)
    index = {t: i for i, t in enumerate(topics)}
    rows = np.array([index[label] for label in labels])
    member = sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(topics), len(rows)))
    per_topic = np.asarray((member @ counts).todense(), dtype=np.float64)
    tf = per_topic / np.maximum(per_topic.sum(axis=1, keepdims=True), 1)
    average = per_topic.sum() / len(topics)
    idf = np.log1p(average / np.maximum(per_topic.sum(axis=0), 1))
    return tf * idf, list(vectorizer.get_feature_names_out()), topics


def top_terms(weights: np.ndarray, terms: list[str], count: int = LABEL_TERMS) -> list[list[str]]:
    """The ``count`` best terms of each row, a unigram left out when a chosen bigram contains it."""
    out: list[list[str]] = []
    for row in weights:
        chosen: list[str] = []
        for i in np.argsort(-row, kind="stable")[: count * 4]:
            if row[i] <= 0:
                break
            term = terms[i]
            if term in BROAD_WORDS:
                continue
            words = set(term.split())
            if any(words <= set(c.split()) or set(c.split()) <= words for c in chosen):
                # a bigram that contains a chosen unigram replaces it; a unigram inside a chosen bigram is skipped
                if " " in term:
                    chosen = [c for c in chosen if not set(c.split()) <= words]
                else:
                    continue
            chosen.append(term)
            if len(chosen) == count:
                break
        out.append(chosen)
    return out


def label_topics(texts: list[str], labels: np.ndarray, count: int = LABEL_TERMS) -> dict[int, list[str]]:
    """``{topic: its most distinctive terms}`` for ``texts`` grouped by ``labels``."""
    weights, terms, topics = class_tfidf(texts, labels)
    return {int(t): words for t, words in zip(topics, top_terms(weights, terms, count), strict=True)}
