"""Semantic indexing: text embeddings (:mod:`.embedder`), the on-disk ANN index (:mod:`.ann`) and keeping both
up to date with the store (:mod:`.indexer`); :mod:`.vectors` answers nearest-neighbour queries on either backend.
"""
