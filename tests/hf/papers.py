"""The extra papers the Hugging Face tests add to the demo corpus, and what the tests know about the server.

The demo corpus has neither arXiv ids nor authors nor upvotes, so three well-known papers are added with their
real ids, authors, publication times and some upvotes: two on the last demo day, one on the first (so that
``sort=trending`` has something to decay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import Paper

LORA_AUTHORS = [
    "Edward J. Hu",
    "Yelong Shen",
    "Phillip Wallis",
    "Zeyuan Allen-Zhu",
    "Yuanzhi Li",
    "Shean Wang",
    "Lu Wang",
    "Weizhu Chen",
]
LORA = dict(
    arxiv_id="2106.09685v2",
    title="LoRA: Low-Rank Adaptation of Large Language Models",
    abstract=(
        "An important paradigm of natural language processing consists of large-scale pre-training on general "
        "domain data and adaptation to particular tasks or domains. As we pre-train larger models, full "
        "fine-tuning, which retrains all model parameters, becomes less feasible. We propose Low-Rank Adaptation, "
        "or LoRA, which freezes the pre-trained model weights and injects trainable rank decomposition matrices "
        "into each layer of the Transformer architecture, greatly reducing the number of trainable parameters for "
        "downstream tasks. We release a package that facilitates the integration of LoRA with PyTorch models at "
        "https://github.com/microsoft/LoRA."
    ),
    authors=LORA_AUTHORS,
    categories=["cs.CL", "cs.AI", "cs.LG"],
    published=datetime(2021, 6, 17, 17, 37, 18, tzinfo=UTC),
    updated=datetime(2021, 10, 16, 18, 40, 34, tzinfo=UTC),
    upvotes=42,
)
ATTENTION = dict(
    arxiv_id="1706.03762",
    title="Attention Is All You Need",
    abstract=(
        "The dominant sequence transduction models are based on complex recurrent or convolutional neural "
        "networks in an encoder-decoder configuration. We propose a new simple network architecture, the "
        "Transformer, based solely on attention mechanisms, dispensing with recurrence and convolutions entirely."
    ),
    authors=["Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit", "Llion Jones",
             "Aidan N. Gomez", "Lukasz Kaiser", "Illia Polosukhin"],
    categories=["cs.CL", "cs.LG"],
    published=datetime(2017, 6, 12, 17, 57, 34, tzinfo=UTC),
    upvotes=100,
)  # fmt: skip
MALDACENA = dict(
    arxiv_id="hep-th/9711200",
    title="The Large N Limit of Superconformal Field Theories and Supergravity",
    abstract=(
        "We show that the large N limit of certain conformal field theories in various dimensions include in "
        "their Hilbert space a sector describing supergravity on the product of Anti-deSitter spacetimes, spheres "
        "and other compact manifolds."
    ),
    authors=["Juan M. Maldacena"],
    categories=["hep-th"],
    published=datetime(1997, 11, 27, tzinfo=UTC),
    journal_ref="Adv.Theor.Math.Phys.2:231-252,1998",
    upvotes=7,
)


@dataclass
class HfDemo:
    """The served library: its URL, and a library on the same database for computing expectations."""

    base_url: str
    library: Library
    config: Config

    def paper(self, paper_id: str) -> Paper:
        paper = self.library.papers.get(paper_id)
        assert paper is not None, paper_id
        return paper


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
