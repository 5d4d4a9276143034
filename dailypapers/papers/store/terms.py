"""Turning a user's search text into the terms both keyword indexes (FTS5, tsvector) are queried with.

User text never reaches the database's query syntax directly: it is cut into word terms here, so quotes,
operators or parentheses in a query can neither fail nor change the query.

A short query keeps all its terms (up to :data:`MAX_TERMS`). A long one — a pasted abstract — keeps the
:data:`MAX_TERMS` most *distinctive* terms of the whole text, the way "more like this" queries are built (Lucene's
``MoreLikeThis``, Elasticsearch's ``more_like_this``): each term is scored by its frequency in the text times its
inverse document frequency in the corpus (:func:`distinctive_terms`), so "the first 32 words" no longer decides.
Forms of one word ("model", "models", "modeling") count as one term: they share a Snowball stem, as they share
their stem in both indexes (FTS5's porter tokenizer, PostgreSQL's english configuration).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be by for from has have how in into is it its of on or that the their this to was we what"
    " when which with without about can do does via using use".split(" ")
)
MAX_TERMS = 32
"""Most terms one keyword query is built from: all of a short query's, the most distinctive of a long one's.
(Lucene's ``MoreLikeThis`` keeps 25 by default; 25, 32 and 48 ranked pasted abstracts within noise of each other
on the relevance set, docs/search.md, so the limit short queries always had stays.)"""
FUNCTION_WORDS = STOPWORDS | frozenset(
    "about above across after again against all almost along already also although always am among another any"
    " around because become been before being below between beyond both but cannot could did doing done down due"
    " during each either else enough especially etc even ever every few further had having he hence her here"
    " however if just least less like many may me might more moreover most mostly much must my namely neither"
    " never nevertheless no nor not nothing now off often once one only onto other others otherwise our out over"
    " own per perhaps quite rather same several she should since so some something sometimes still such than them"
    " themselves then there thereby therefore these they those though through throughout thus together too toward"
    " towards under unless until up upon us very were whatever where whereas whether while who whom whose why will"
    " within would yet you your two three four five first second third".split(" ")
)
"""Words a long text's terms are never chosen from: in a corpus of a few hundred papers "sometimes" is as rare as
"grokking", so tf-idf alone would pick it (Lucene's ``MoreLikeThis`` takes a stop-word set for the same reason)."""
MAX_DF_SHARE = 0.2
"""A long text's term in more than this share of the papers is left out (``MoreLikeThis``' ``maxDocFreqPct``): it
hardly moves a BM25 ranking, but PostgreSQL's ``ts_rank`` has no idf, so there common words would decide it. On the
relevance set 0.2 ranked long texts as well as keeping every term, on both backends (docs/search.md)."""
_local = threading.local()  # a Snowball stemmer keeps state: one per thread


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` in order, stopwords dropped (all kept if nothing else is left)."""
    found = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    return [w for w in found if w not in STOPWORDS] or found


def query_terms(query: str) -> list[str]:
    """Distinct lower-case word terms of ``query`` in order, stopwords dropped, at most :data:`MAX_TERMS`."""
    return list(dict.fromkeys(words(query)))[:MAX_TERMS]


def is_long(query: str) -> bool:
    """Whether ``query`` has more distinct terms than one keyword query takes (then it is chosen from)."""
    return len(dict.fromkeys(words(query))) > MAX_TERMS


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-case word (cached; one stemmer per thread)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def term_counts(text: str) -> dict[str, int]:
    """Each word of ``text`` (forms of one word merged under their most frequent form, the first on a tie) with
    how often it occurs, in order of first appearance. Function words, numbers and one-letter words are left out:
    "however", "(1)", "4-bit" and "x" say little about a text's subject; so are URLs, e-mail addresses, DOIs, arXiv
    ids and citations (:func:`strip_references`), which name other things than the subject."""
    forms: dict[str, dict[str, int]] = {}
    for w in words(strip_references(text)):
        if len(w) > 1 and not w.isdigit() and w not in FUNCTION_WORDS:
            by_form = forms.setdefault(stem(w), {})
            by_form[w] = by_form.get(w, 0) + 1
    return {max(f, key=lambda w: f[w]): sum(f.values()) for f in forms.values()}


def idf(df: int, corpus_size: int) -> float:
    """Inverse document frequency, ``1 + ln((N + 1) / (df + 1))`` (Lucene's classic similarity, which
    ``MoreLikeThis`` scores with): positive for every term, largest for the rarest."""
    return 1.0 + math.log((max(corpus_size, df) + 1) / (df + 1))


def distinctive_terms(
    counts: Mapping[str, int],
    df: Mapping[str, int],
    corpus_size: int,
    limit: int = MAX_TERMS,
    max_share: float = MAX_DF_SHARE,
) -> list[str]:
    """The ``limit`` terms of ``counts`` (term -> occurrences in the text) with the highest ``tf × idf``, best
    first (ties keep the text's order). ``df`` gives each term's document frequency in the corpus. A term that no
    paper contains (``df`` 0 or missing) is left out, since it cannot match anything, and so is one in more than
    ``max_share`` of the papers, unless no other term is left."""
    found = [(i, t, n) for i, (t, n) in enumerate(counts.items()) if df.get(t, 0) > 0]
    kept = [(i, t, n) for i, t, n in found if df[t] <= max_share * corpus_size] or found
    return [t for _, _, t in sorted((-n * idf(df[t], corpus_size), i, t) for i, t, n in kept)[:limit]]


_REFERENCES = [
    re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE),  # URLs
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"\b(?:doi:\s*)?10\.\d{4,9}/\S+", re.IGNORECASE),  # DOIs
    re.compile(r"\b(?:arXiv:\s*)?\d{4}\.\d{4,5}(?:v\d+)?\b", re.IGNORECASE),  # arXiv ids, new style
    re.compile(r"\b[a-z-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?\b", re.IGNORECASE),  # arXiv ids, old style
    # A citation in brackets: "(Vaswani et al., 2017; Devlin et al. 2019)", "[Smith 2020]"
    re.compile(r"[(\[][^()\[\]]*?(?:\bet al\b\.?|\b(?:19|20)\d{2}[a-z]?\b)[^()\[\]]*[)\]]"),
    re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]"),  # numbered citations: [3], [3, 7], [3-5]
    # A name cited in the running text: "Vaswani et al.", "Smith and Lee (2020)"
    re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:and|&)\s+[A-Z][\w'’-]+)?\s+et\s+al\b\.?"),
]


def strip_references(text: str) -> str:
    """``text`` without URLs, e-mail addresses, DOIs, arXiv ids and citations (each replaced by a space)."""
    for pattern in _REFERENCES:
        text = pattern.sub(" ", text)
    return text


def fts5_expression(terms: Sequence[str], conjunctive: bool = False) -> str:
    """FTS5 MATCH text joining ``terms`` (each a quoted string, never syntax) by OR, or by AND if ``conjunctive``."""
    return (" AND " if conjunctive else " OR ").join(fts5_term(t) for t in terms)


def fts5_term(term: str) -> str:
    """``term`` as an FTS5 string (quoted, inner quotes doubled): matched as words, never parsed as syntax."""
    return '"' + term.replace('"', '""') + '"'
