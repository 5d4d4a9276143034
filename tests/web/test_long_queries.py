"""Pasted abstracts as queries, over real HTTP on both backends: the search page's paste form (POST, CSRF, no
JavaScript), ``POST /api/search`` with JSON, ``GET`` up to the limit, and the message for a text over it (page,
JSON, CLI)."""

from __future__ import annotations

import html
import json
import re

import httpx
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from tests.demo import DEMO_CORPUS, ROOT, cli_env
from tests.web.conftest import assert_error_json, titles

PASTED = "Fast Machine Unlearning Without Retraining Through Selective Synaptic Dampening"
NEIGHBOURS = (  # machine unlearning papers of the demo corpus, judged in bench/relevance/judgments.tsv (p01)
    "Attribute-to-Delete: Machine Unlearning via Datamodel Matching",
    "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency in Both Image Classification and"
    " Generation",
    "Label-Agnostic Forgetting: A Supervision-Free Unlearning in Deep Models",
)
LIMIT = Config.max_query_length
JUDGED = {  # the papers judged related to the pasted one by reading them (query p01 of the relevance set)
    title
    for qid, title, _ in (
        line.split("\t") for line in (ROOT / "bench/relevance/judgments.tsv").read_text().splitlines()
    )
    if qid == "p01"
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TEXTAREA = re.compile(r'<textarea id="paste"[^>]*>(.*?)</textarea>', re.S)


def _abstracts() -> dict[str, str]:
    rows = [json.loads(line) for line in DEMO_CORPUS.read_text().splitlines() if line.strip()]
    return {r["title"]: " ".join(r["abstract"].split()) for r in rows}


def long_text() -> str:
    """A 5,000-character-plus paste: the unlearning paper's abstract, then three of its neighbours' abstracts."""
    abstracts = _abstracts()
    text = "\n\n".join([abstracts[PASTED], *(abstracts[t] for t in NEIGHBOURS)])
    assert 5000 <= len(text) <= LIMIT
    return text


def form_token(client: httpx.Client) -> str:
    """The CSRF token of the search page's forms (the page also sets the CSRF cookie)."""
    page = client.get("/search")
    assert page.status_code == 200
    found = _CSRF.search(page.text)
    assert found, "the paste form carries a csrf_token field"
    return html.unescape(found.group(1))


def paste(client: httpx.Client, text: str, **fields: str) -> httpx.Response:
    data = {"q": text, "mode": "hybrid", "since": "", "until": "", "category": "", "author": "", **fields}
    return client.post("/search", data={"csrf_token": form_token(client), **data})


def test_the_search_box_and_the_paste_form_state_the_limit(http: httpx.Client) -> None:
    page = http.get("/search").text
    assert page.count(f'maxlength="{LIMIT}"') == 2  # the search box and the paste box
    assert f"up to {LIMIT:,} characters" in page
    assert '<form class="stacked" action="/search" method="post">' in page and "Paste an abstract" in page


def test_a_pasted_abstract_finds_the_paper_and_then_its_neighbours(http: httpx.Client) -> None:
    text = long_text()
    token = http.get("/api/csrf").json()["csrf_token"]
    data = http.post("/api/search", json={"q": text}, headers={"X-CSRF-Token": token}).json()
    found = [r["title"] for r in data["results"]]
    assert found[0] == PASTED and set(found[1:6]) <= JUDGED, found[:6]  # then five of its judged neighbours
    assert len(set(NEIGHBOURS) & set(found[:10])) >= 2
    assert data["query"] == " ".join(text.split()) and data["mode"] == "hybrid"
    marked = re.findall(r"<mark>([^<]+)</mark>", data["results"][0]["abstract_html"])
    assert marked and not {m.lower() for m in marked} & {"we", "the", "this", "however"}  # distinctive words only
    got = http.get("/api/search", params={"q": text}).json()  # GET works too, up to the limit
    assert [r["title"] for r in got["results"]] == found


def test_the_paste_form_works_without_javascript(http: httpx.Client) -> None:
    text = long_text()
    page = paste(http, text)
    assert page.status_code == 200, page.text[:500]
    found = [t for _, t in titles(page.text)]
    assert found[0] == PASTED and set(found[1:6]) <= JUDGED
    box = _TEXTAREA.search(page.text)
    assert box and html.unescape(box.group(1)) == text  # the text stays in the box
    assert "/api/search?q=" in page.text  # a 5,000-character query still fits in a shareable link
    # The next page is a small form that posts the text again (a link could not carry 10,000 characters).
    nxt = re.search(r'<form class="inline pager-next" action="/search" method="post">(.*?)</form>', page.text, re.S)
    assert nxt and 'name="p" value="2"' in nxt.group(1) and 'name="csrf_token"' in nxt.group(1)
    two = paste(http, text, p="2")
    assert two.status_code == 200 and not set(titles(two.text)) & set(titles(page.text))


def test_the_paste_form_and_the_json_post_need_the_csrf_token(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as stranger:
        refused = stranger.post("/search", data={"q": "unlearning"})
        assert refused.status_code == 403 and "CSRF token is missing or wrong" in refused.text
        assert_error_json(stranger.post("/api/search", json={"q": "unlearning"}), 403, "CSRF token")
        forged = stranger.post("/search", data={"q": "unlearning", "csrf_token": "forged"})
        assert forged.status_code == 403


def test_a_json_post_takes_filters_and_pages_and_refuses_what_it_does_not_know(http: httpx.Client) -> None:
    headers = {"X-CSRF-Token": http.get("/api/csrf").json()["csrf_token"]}
    first = http.post("/api/search", json={"q": "machine unlearning", "mode": "keyword"}, headers=headers).json()
    second = http.post("/api/search", json={"q": "machine unlearning", "mode": "keyword", "page": 2}, headers=headers)
    assert first["mode"] == "keyword" and second.status_code == 200 and second.json()["page"] == 2
    assert all(r["vector_rank"] is None for r in first["results"])
    none = http.post("/api/search", json={"q": "machine unlearning", "until": "2000-01-01"}, headers=headers).json()
    assert none["results"] == [] and none["filters"]["until"] == "2000-01-01"
    typo = http.post("/api/search", json={"q": "unlearning", "categroy": "cs.LG"}, headers=headers)
    assert_error_json(typo, 400, "categroy")
    late = {"q": "x", "since": "2026-02-01", "until": "2026-01-01"}
    assert_error_json(http.post("/api/search", json=late, headers=headers), 400, "'since' must not be later")


def test_a_query_over_the_limit_gets_a_clear_message_everywhere(http: httpx.Client, demo_config: Config) -> None:
    text = ("abstract " * (LIMIT // 9 + 1))[: LIMIT + 1]
    assert len(text) == LIMIT + 1
    message = f"A query can be at most {LIMIT:,} characters; this one has {LIMIT + 1:,}."
    for page in (http.get("/search", params={"q": text}), paste(http, text)):
        assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
        assert message in page.text and "That request did not work" not in page.text  # the page, not an error page
        box = _TEXTAREA.search(page.text)
        assert box and html.unescape(box.group(1)) == text  # nothing typed is lost
        assert titles(page.text) == []
    assert_error_json(http.get("/api/search", params={"q": text}), 400, f"'q' must be at most {LIMIT} characters")
    token = http.get("/api/csrf").json()["csrf_token"]
    posted = http.post("/api/search", json={"q": text}, headers={"X-CSRF-Token": token})
    assert_error_json(posted, 400, f"'q' must be at most {LIMIT} characters")
    result = CliRunner().invoke(main, ["search", text], env=cli_env(demo_config))
    assert result.exit_code == 1 and message in result.output


def test_the_cli_reads_a_long_query_from_standard_input(demo_config: Config) -> None:
    result = CliRunner().invoke(main, ["search", "--json", "-"], input=long_text(), env=cli_env(demo_config))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["results"][0]["title"] == PASTED
