"""Where papers come from: JSONL files, the Kaggle arXiv snapshot, the arXiv API and Hugging Face daily papers.

Every source is a generator of :class:`~dailypapers.papers.models.Paper` or :class:`Rejected` records, written into the
store by :func:`ingest` (see :mod:`dailypapers.papers.sources.base`).
"""

from dailypapers.papers.sources.arxiv_api import (
    ArxivClient,
    ArxivQueryError,
    arxiv_id_lookup,
    arxiv_options,
    read_arxiv,
)
from dailypapers.papers.sources.base import IngestReport, Record, Rejected, SourceError, ingest
from dailypapers.papers.sources.hf_daily import read_hf_daily
from dailypapers.papers.sources.jsonl import read_jsonl
from dailypapers.papers.sources.kaggle import read_kaggle

__all__ = [
    "ArxivClient",
    "ArxivQueryError",
    "IngestReport",
    "Record",
    "Rejected",
    "SourceError",
    "arxiv_id_lookup",
    "arxiv_options",
    "ingest",
    "read_arxiv",
    "read_hf_daily",
    "read_jsonl",
    "read_kaggle",
]
