"""A long text (a pasted abstract, a page copied from a PDF) as weighted query terms.

Every distinctive term of the text is searched, weighted by how often the text uses it (:data:`TF_WEIGHT`): the
BM25 of the engine then gives each its corpus weight (idf), so common subject words ("loss", "diffusion") count
a little and rare ones a lot, and none is cut off by a term cap or a document-frequency share (the old rule kept
the 32 best by tf-idf and left out terms in over 20% of the papers). Words that only identify other things are
taken out first (:func:`~dailypapers.papers.store.terms.strip_references`, on PostgreSQL's path too): URLs, e-mail
addresses, DOIs, arXiv ids and citations such as
"(Vaswani et al., 2017)", "Smith and Lee [12]" or "[3, 7]", which would otherwise find the cited authors' papers
or papers quoting the same URL. Function words, numbers and one-letter words are skipped
(:func:`dailypapers.papers.store.terms.term_counts`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable

from dailypapers.papers.store.terms import MAX_DF_SHARE, MAX_TERMS, idf, stem, term_counts

TF_WEIGHT = "log"
"""How a term's count in the text becomes its query weight: ``tf`` (the count), ``log`` (1 + ln count) or
``sqrt``; ``cap32`` is the rule before (the 32 best by tf-idf, none in over 20% of the papers, each weight 1), kept
to be measured against. Measured on the relevance set (docs/search.md, "Long text on tantivy")."""


def tf_weight(count: int, rule: str = TF_WEIGHT) -> float:
    """The query weight of a term the text uses ``count`` times."""
    if rule == "tf":
        return float(count)
    if rule == "sqrt":
        return math.sqrt(count)
    return 1.0 + math.log(count)


def index_tokens(word: str) -> list[str]:
    """The index's tokens of one word of the text (:func:`~dailypapers.search.keyword.tantivy_index.analyzer`:
    lower case, ASCII-folded, Snowball English stem), computed here with the cached stemmer of
    :mod:`~dailypapers.papers.store.terms`: a call into tantivy per word cost ~25 µs, 2 ms per abstract. The two
    agree on every word of the demo corpus but those with an apostrophe, which tantivy splits ("model's": model, s)
    and which are split here too, the one-letter part dropped."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))
    return [stem(part) for part in re.split(r"['’]", folded) if len(part) > 1 and len(part.encode()) < 40]


def weighted_terms(
    text: str, doc_freq: Callable[[str], int], corpus_size: int, *, rule: str = TF_WEIGHT
) -> tuple[dict[str, float], list[str]]:
    """``(index token -> weight, words to highlight)`` for a long ``text``; ``doc_freq`` counts the papers with a
    token (a token in none is left out: it cannot match). The words to highlight are the
    :data:`~dailypapers.papers.store.terms.MAX_TERMS` with the highest count × idf."""
    counts = term_counts(text)  # URLs, ids and citations already taken out
    dfs: dict[str, int] = {}
    tokens_of = {w: [t for t in index_tokens(w) if dfs.setdefault(t, doc_freq(t)) > 0] for w in counts}
    if rule == "cap32":
        counts = {w: n for w, n in counts.items() if all(dfs[t] <= MAX_DF_SHARE * corpus_size for t in tokens_of[w])}
    weights: dict[str, float] = {}
    scored: list[tuple[float, int, str]] = []
    for i, (word, n) in enumerate(counts.items()):
        for tok in tokens_of[word]:
            weights[tok] = weights.get(tok, 0.0) + tf_weight(n, rule)
        if tokens_of[word]:
            scored.append((-n * idf(dfs[tokens_of[word][0]], corpus_size), i, word))
    best = [w for _, _, w in sorted(scored)[:MAX_TERMS]]
    if rule == "cap32":
        weights = {t: 1.0 for w in best for t in tokens_of[w]}
    return weights, best
