"""Semantic indexing: text embeddings (:mod:`.embedder`), one :class:`~.base.VectorIndex` interface to
nearest-neighbour search with an implementation per backend (:mod:`.index`: the on-disk HNSW index of SQLite,
:mod:`.hnsw`; :mod:`.pgvector`: PostgreSQL's pgvector), picked by :func:`.index.open_vector_index`, and keeping
embeddings and index up to date with the store (:mod:`.indexer`).
"""
