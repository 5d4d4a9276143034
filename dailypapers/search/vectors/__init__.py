"""Semantic indexing: text embeddings (:mod:`.embedder`), the on-disk HNSW index of SQLite (:mod:`.hnsw`) and
keeping both up to date with the store (:mod:`.indexer`); :mod:`.index` answers nearest-neighbour queries on
either backend.
"""
