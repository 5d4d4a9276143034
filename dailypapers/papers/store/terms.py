"""Turning a user's search text into the terms both keyword indexes (FTS5, tsvector) are queried with.

User text never reaches the database's query syntax directly: it is cut into word terms here, so quotes,
operators or parentheses in a query can neither fail nor change the query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be by for from has have how in into is it its of on or that the their this to was we what"
    " when which with without about can do does via using use".split(" ")
)
MAX_TERMS = 32


def query_terms(query: str) -> list[str]:
    """Distinct lower-case word terms of ``query``, stopwords dropped (all kept if nothing else is left)."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(query)]
    kept = [w for w in words if w not in STOPWORDS] or words
    seen: dict[str, None] = {}
    for w in kept:
        seen.setdefault(w, None)
    return list(seen)[:MAX_TERMS]


def fts5_expression(terms: Sequence[str], conjunctive: bool = False) -> str:
    """FTS5 MATCH text joining ``terms`` (each a quoted string, never syntax) by OR, or by AND if ``conjunctive``."""
    return (" AND " if conjunctive else " OR ").join(fts5_term(t) for t in terms)


def fts5_term(term: str) -> str:
    """``term`` as an FTS5 string (quoted, inner quotes doubled): matched as words, never parsed as syntax."""
    return '"' + term.replace('"', '""') + '"'
