"""Ranking: hybrid keyword + semantic search, similar papers, and the fusion that joins rankings."""
