"""BibTeX through the real server, on both backends: a paper's ``.bib`` with arXiv's fields, a search page's
``.bib``, and hostile titles that stay inside their field (parsed back with pybtex)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from pybtex.database import parse_string

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.bibtex import latex_text
from dailypapers.papers.models import make_paper
from tests.demo import running_server


def test_a_paper_as_bibtex(extra_http: httpx.Client) -> None:
    r = extra_http.get("/papers/2106.09685v2.bib")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-bibtex")
    entries = parse_string(r.text, "bibtex").entries
    assert list(entries) == ["hu2021lora"]
    lora = entries["hu2021lora"]
    assert lora.type == "misc"
    assert dict(lora.fields) == {
        "title": "{LoRA: Low-Rank Adaptation of Large Language Models}",
        "year": "2021",
        "eprint": "2106.09685",
        "archivePrefix": "arXiv",
        "primaryClass": "cs.CL",
        "url": "https://arxiv.org/abs/2106.09685",
    }
    assert [str(p) for p in lora.persons["author"]] == ["Hu, Edward J.", "Shen, Yelong", "Chen, Weizhu"]
    old = parse_string(extra_http.get("/papers/hep-th/9901001.bib").text, "bibtex").entries
    (only,) = old.values()
    assert only.fields["eprint"] == "hep-th/9901001" and only.fields["note"] == "Nucl. Phys. B 999 (1999) 1-20"
    assert only.fields["doi"] == "10.1016/S0550-3213(99)00001-1"
    assert extra_http.get("/papers/9999.99999.bib").status_code == 404
    page = extra_http.get("/papers/2106.09685")
    assert 'href="/papers/2106.09685.bib"' in page.text


def test_a_search_page_as_bibtex(extra_http: httpx.Client) -> None:
    r = extra_http.get("/search.bib", params={"q": "neural networks learning", "category": "cs.LG"})
    entries = parse_string(r.text, "bibtex").entries
    ids = [e.fields["eprint"] for e in entries.values()]
    assert ids and "1207.0580" in ids and "hep-th/9901001" not in ids  # the filter holds
    page = extra_http.get("/search", params={"q": "neural networks learning", "category": "cs.LG"})
    assert "/search.bib?q=neural+networks+learning&amp;category=cs.LG" in page.text
    assert extra_http.get("/search.bib").text == ""  # no query, no results


def test_hostile_titles_stay_inside_their_field(db_config: Config) -> None:
    titles = [
        'Closing } brace", note = {injected',
        "100% of A & B_c #1 ~ with $x_i^2$ math",
        r"Open { brace \end{document}",
    ]
    lib = Library(db_config)
    papers = [make_paper(source="jsonl", arxiv_id=f"2401.0000{i}", title=t, abstract="A.", authors=["Smith and Sons"],
                         published=datetime(2024, 1, 2, tzinfo=UTC), added_at=date(2024, 1, 8))
              for i, t in enumerate(titles, start=1)]  # fmt: skip
    lib.ingest(papers, index=False)
    lib.close()
    with running_server(db_config) as base:
        for i, title in enumerate(titles, start=1):
            text = httpx.get(f"{base}/papers/2401.0000{i}.bib").text
            (entry,) = parse_string(text, "bibtex").entries.values()
            assert set(entry.fields) == {"title", "year", "eprint", "archivePrefix", "url"}  # nothing injected
            assert entry.fields["title"] == "{" + latex_text(title) + "}"
            assert [str(p) for p in entry.persons["author"]] == ["{Smith and Sons}"]  # one author
    assert latex_text(titles[1]) == r"100\% of A \& B\_c \#1 \textasciitilde{} with $x_i^2$ math"
    assert latex_text("a $ b") == r"a \$ b"
