"""A researcher's morning in a real browser: Debian's chromium driven by Playwright against the real server.

Reads the daily list, opens an abstract, searches, opens a paper with its similar papers; signs up to upvote it,
logs in again, creates an API token and uses it from a plain HTTP client, revokes it and logs out. Skipped
when chromium is missing, unless DAILYPAPERS_REQUIRE_BROWSER=1 (CI installs chromium and sets it, so there the
test can only pass or fail).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.sources.jsonl import read_jsonl
from tests.demo import DEMO_CORPUS, DEMO_DAYS, DROPOUT_TITLE, running_server

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small library (40 demo papers incl. the dropout paper) served by the real server."""
    lines = DEMO_CORPUS.read_text().splitlines()
    picked = [line for line in lines if DROPOUT_TITLE in line] + lines[:40]
    corpus = tmp_path_factory.mktemp("corpus") / "papers.jsonl"
    corpus.write_text("\n".join(picked) + "\n")
    config = Config(password_hash="cheapest", data_dir=tmp_path_factory.mktemp("browser-data"))
    lib = Library(config)
    lib.init()
    lib.ingest(read_jsonl(corpus), added_at=DEMO_DAYS[-1], progress=False)
    lib.close()
    with running_server(config) as base:
        yield base


def test_read_search_open_and_upvote(site: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # The daily list: the latest day, abstracts collapsed until asked for.
    page.goto(site + "/")
    assert page.locator("li.paper").count() == 20  # first page of 41
    first = page.locator("details.abstract").first
    assert first.get_attribute("open") is None
    first.locator("summary").click()
    assert first.get_attribute("open") is not None

    # Search from the header box; matched words are highlighted.
    page.fill("form.quick-search input[name=q]", "dropout regularization for neural networks")
    page.press("form.quick-search input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    titles = page.locator("li.paper h2.title a").all_inner_texts()
    assert DROPOUT_TITLE in titles[:3]
    assert page.locator("li.paper mark").count() > 0

    # The paper page, with similar papers that do not include itself.
    page.get_by_role("link", name=DROPOUT_TITLE).first.click()
    page.wait_for_url("**/papers/**")
    assert page.locator("h1").inner_text().strip() == DROPOUT_TITLE
    similar = page.locator(".similar li").all_inner_texts()
    assert similar and not any(DROPOUT_TITLE in s for s in similar)

    # Voting needs an account: the button leads to the log-in page, sign-up comes back to the paper.
    paper_url = page.url
    path = paper_url.removeprefix(site)
    page.locator("form.vote button").first.click()
    page.wait_for_url(re.compile(r"/login\?next=/papers/"))
    page.goto(f"{site}/signup?next={path}")
    page.fill("#username", "ada")
    page.fill("#email", "ada@example.org")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(paper_url)
    assert page.locator("nav.account").inner_text().startswith("ada")

    # Upvote, see the count and the pressed state survive the reload; withdraw it again.
    button = page.locator("form.vote button").first
    assert button.inner_text().strip() == "▲ 0"
    button.click()
    page.wait_for_load_state("load")
    button = page.locator("form.vote button").first
    assert button.inner_text().strip() == "▲ 1"
    assert button.get_attribute("aria-pressed") == "true"
    api = json.loads(page.request.get(paper_url.replace("/papers/", "/api/papers/")).text())
    assert api["upvotes"] == 1
    button.click()
    page.wait_for_load_state("load")
    assert page.locator("form.vote button").first.inner_text().strip() == "▲ 0"

    # Log out, log in again, make a token on the account page and use it from a plain HTTP client.
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(site + "/")
    page.goto(site + "/login?next=/account")
    page.fill("#login", "ada")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account")
    page.fill("#token-name", "curl on my laptop")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("load")
    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("dp_")
    bearer = {"Authorization": f"Bearer {secret}"}
    paper_id = path.removeprefix("/papers/")
    r = httpx.post(f"{site}/api/votes/{paper_id}", json={"up": True}, headers=bearer)
    assert r.status_code == 200 and r.json()["upvotes"] == 1

    page.goto(site + "/account")
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_load_state("load")
    assert "revoked" in page.locator("#tokens").inner_text()
    assert httpx.post(f"{site}/api/votes/{paper_id}", json={"up": False}, headers=bearer).status_code == 401

    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_url(site + "/")
    assert page.locator("nav.account").inner_text().startswith("Log in")
    page.set_viewport_size({"width": 360, "height": 740})  # a narrow phone: the account page still fits
    page.goto(site + "/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    assert not errors, errors
    page.close()
