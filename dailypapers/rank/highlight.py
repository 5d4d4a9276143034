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


def highlight(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with every word whose stem matches a term's stem wrapped in ``<mark>``."""
    stems = {stem(t) for t in terms if t}
    if not stems:
        return escape(text)
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(text):
        if stem(m.group()) in stems:
            out.append(str(escape(text[last : m.start()])))
            out.append(f"<mark>{escape(m.group())}</mark>")
            last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))
