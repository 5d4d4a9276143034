"""The community in a real browser: Debian's chromium driven by Playwright against the real server and a local fake
arXiv API.

Sign up → log in → search → open a paper → upvote → comment (with script payloads that must not run) → save it to
a new public collection → submit a paper by its arXiv URL → see it on today's list and in the collection's Atom feed
→ log out. Then the main pages are photographed at desktop and phone widths (kept in ``test-artifacts/`` and checked
not blank, and on the phone not wider than the screen), and read again with JavaScript turned off.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.sources.jsonl import read_jsonl
from tests.browser.png import is_blank
from tests.demo import DEMO_CORPUS, DEMO_DAYS, DROPOUT_TITLE, running_server
from tests.fakes_arxiv import FakePaper, arxiv_by_id, days_ago

PASSWORD = "correct horse battery"
ARTIFACTS = Path(os.environ.get("DAILYPAPERS_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
SUBMITTED = FakePaper("2611.04242", "Sparse Mixtures of Curious Experts", days_ago(2), authors=("Grace Hopper",))
PAYLOAD = (
    'Great paper! <script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2"> '
    "[click](javascript:window.__pwned=3) and **bold** with `code`"
)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """40 demo papers on an earlier day, served by the real server, which fetches submissions from a fake arXiv."""
    lines = DEMO_CORPUS.read_text().splitlines()
    corpus = tmp_path_factory.mktemp("corpus") / "papers.jsonl"
    corpus.write_text("\n".join([line for line in lines if DROPOUT_TITLE in line] + lines[:40]) + "\n")
    config = Config(password_hash="cheapest", data_dir=tmp_path_factory.mktemp("community-data"))
    lib = Library(config)
    lib.init()
    lib.ingest(read_jsonl(corpus), added_at=DEMO_DAYS[0], progress=False)
    lib.close()
    with arxiv_by_id() as arxiv:
        arxiv.add(SUBMITTED)
        env = {"DAILYPAPERS_ARXIV_API_URL": arxiv.url, "DAILYPAPERS_ARXIV_DELAY": "0.1"}
        with running_server(config, env=env) as base:
            yield base


def watch(page: object) -> list[str]:
    """Console errors, page errors, failed responses and dialogs (an ``alert`` from a payload) of ``page``."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: seen.append(str(e)))  # type: ignore[attr-defined]
    page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (seen.append(f"dialog: {d.message}"), d.dismiss()))  # type: ignore[attr-defined]
    return seen


def sign_up_and_find(page: object, site: str) -> str:
    """Sign up (the first user: the admin), log out and in again, search and open the dropout paper; its URL."""
    page.goto(site + "/signup")  # type: ignore[attr-defined]
    page.fill("#username", "ada")  # type: ignore[attr-defined]
    page.fill("#email", "ada@example.org")  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Create account").click()  # type: ignore[attr-defined]
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log out", exact=True).click()  # type: ignore[attr-defined]
    page.wait_for_url(site + "/")  # type: ignore[attr-defined]
    page.goto(site + "/login")  # type: ignore[attr-defined]
    page.fill("#login", "ada")  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    assert page.locator("nav.account").inner_text().startswith("ada")  # type: ignore[attr-defined]
    page.fill("form.quick-search input[name=q]", "dropout regularization for neural networks")  # type: ignore[attr-defined]
    page.press("form.quick-search input[name=q]", "Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**/search?q=*")  # type: ignore[attr-defined]
    page.get_by_role("link", name=DROPOUT_TITLE).first.click()  # type: ignore[attr-defined]
    page.wait_for_url("**/papers/**")  # type: ignore[attr-defined]
    return str(page.url)  # type: ignore[attr-defined]


def test_a_researcher_brings_discusses_and_collects_papers(site: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    problems = watch(page)
    paper_url = sign_up_and_find(page, site)

    page.locator("form.vote button").first.click()  # upvote
    page.wait_for_load_state("load")
    assert page.locator("form.vote button").first.inner_text().strip() == "▲ 1"

    # A comment with script payloads: shown as text or dropped, never run; the Markdown that is allowed renders.
    page.fill("#body-new", PAYLOAD)
    page.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_url(re.compile(r"#c-"))
    comment = page.locator("#comments article, #comments li, #comments .comment").first
    assert "Great paper!" in comment.inner_text()
    assert page.locator("#comments strong", has_text="bold").count() == 1
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("#comments script").count() == 0 and page.locator("#comments img").count() == 0
    assert page.locator('#comments a[href^="javascript:"]').count() == 0

    # Save it to a new public collection.
    page.get_by_role("link", name="Save", exact=True).first.click()
    page.wait_for_url("**/collections/add?**")
    page.fill("#new-name", "Reading group <b>week 1</b>")
    page.check("input[name=public]")
    page.get_by_role("button", name="Create and save").click()
    page.wait_for_load_state("load")
    page.goto(site + "/collections")
    page.get_by_role("link", name="Reading group <b>week 1</b>").first.click()
    page.wait_for_url(re.compile(r"/collections/[0-9a-f]+$"))
    collection = page.url
    assert DROPOUT_TITLE in page.locator("main").inner_text()

    # Submit a paper by its arXiv URL: fetched from the fake arXiv, on today's list, saved to the collection too.
    page.get_by_role("link", name="Submit").first.click()
    page.fill("#id", f"https://arxiv.org/abs/{SUBMITTED.arxiv_id}v1")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(rf"/papers/{re.escape(SUBMITTED.arxiv_id)}(\?|$)"))
    assert page.locator("h1").inner_text().strip() == SUBMITTED.title
    assert "ada" in page.locator("main").inner_text()  # submitted by
    page.get_by_role("link", name="Save", exact=True).first.click()
    page.get_by_role("button", name="Save here").first.click()
    page.wait_for_load_state("load")
    page.goto(site + "/")
    assert SUBMITTED.title in page.locator("li.paper h2.title").all_inner_texts()
    feed_path = collection.removeprefix(site).replace("/collections/", "/feeds/collections/") + ".atom"
    assert page.locator(f'link[rel=alternate][href="{feed_path}"]').count() == 0  # on the collection page instead
    page.goto(collection)
    assert page.locator(f'link[rel=alternate][href="{feed_path}"]').count() == 1
    feed = feedparser.parse(page.request.get(site + feed_path).body())
    assert not feed.bozo and "Reading group <b>week 1</b>" in feed.feed.title
    assert {e.title for e in feed.entries} == {DROPOUT_TITLE, SUBMITTED.title}

    page.goto(paper_url)
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(site + "/")
    assert page.locator("nav.account").inner_text().startswith("Log in")
    assert not problems, problems
    page.close()
    photograph(browser, site, paper_url, collection)
    read_without_javascript(browser, site, paper_url)


def photograph(browser: object, site: str, paper_url: str, collection: str) -> None:
    """Screenshots of the main pages at a desktop and a phone width, kept as artifacts, each checked not blank."""
    pages = {"home": site + "/", "trending": site + "/trending", "paper": paper_url, "collection": collection,
             "search": site + "/search?q=dropout", "submit": site + "/submit"}  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for device, (width, height) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
        page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        for name, url in pages.items():
            page.goto(url)
            shot = page.screenshot(full_page=False)
            (ARTIFACTS / f"{name}-{device}.png").write_bytes(shot)
            assert not is_blank(shot), f"{name} at {device} width is blank"
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} overflows at {width} px"
        page.close()


def read_without_javascript(browser: object, site: str, paper_url: str) -> None:
    """Reading needs no JavaScript: the list, a paper page with its comment, trending, a public collection."""
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(site + "/")
    assert page.locator("li.paper").count() >= 1
    page.goto(paper_url)
    assert "Great paper!" in page.locator("#comments").inner_text()
    page.locator("details.abstract, section.abstract-full").first.wait_for()
    page.goto(site + "/trending?window=month")
    assert page.locator("li.paper").count() >= 2
    context.close()
