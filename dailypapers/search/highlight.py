"""Marking the query's terms in a title or abstract, the way the keyword index matched them.

The keyword indexes stem words (FTS5's porter tokenizer, PostgreSQL's english configuration), so "regularize"
matches "regularization"; the highlighter compares Snowball (Porter 2) stems for the same effect.
Output is HTML-escaped text with ``<mark>`` around matches, safe to insert into a page.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup, escape

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_local = threading.local()  # snowball stemmers keep state: one per thread


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English Snowball stem of ``word``, lower-cased."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word.lower()))


@lru_cache(maxsize=4096)
def _starting_with(initials: str) -> re.Pattern[str]:
    """Whole words (as ``_WORD`` cuts them) whose first letter is one of ``initials``, in any case."""
    return re.compile(rf"(?<![^\W_])[{re.escape(initials)}][^\W_]*", re.IGNORECASE)


def highlight(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with every word whose stem matches a term's stem wrapped in ``<mark>``."""
    stems = {stem(t) for t in terms if t}
    if not stems:
        return escape(text)
    # A word and its stem share their first letter (even "dying" -> "die", "skies" -> "sky"), so only words that
    # start like a term are stemmed: a search highlights 40 titles and abstracts, and most words are skipped here.
    out: list[str] = []
    last = 0
    for m in _starting_with("".join(sorted({s[0] for s in stems if s}))).finditer(text):
        word = m.group()
        if stem(word) in stems:
            out.append(str(escape(text[last : m.start()])))
            out.append(f"<mark>{escape(word)}</mark>")
            last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))
