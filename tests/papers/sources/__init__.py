"""Tests of the paper sources (JSONL, Kaggle snapshot, arXiv API, Hugging Face daily papers)."""
