"""Search: hybrid keyword + semantic search, similar papers, and the fusion that joins rankings.

Keyword SQL (FTS5, tsvector) lives in the two paper stores (:mod:`dailypapers.papers.store`); vectors in
:mod:`.vectors`.
"""
