"""Every page fits a 360 px phone (issue 21, item 3), signed out, signed in and as an admin, in a real browser with
JavaScript turned off: Debian's chromium driven by Playwright against the real server.

The pages are not listed by hand: every GET route of the app that answers HTML is walked, its path parameters
filled with sample ids of a small library (40 demo papers with their arXiv ids, authors and categories, a public
collection, a comment with a long link, a pending claim, a subscription), plus a few pages with a query. A new
page with a parameter the walk does not know fails here until it gets a sample. On each page the document's
``scrollWidth`` must be at most 360. The header's menu must show every item of each state on the screen (nothing
hidden behind a script), and the subscription form one choice per line with each box on its label.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from dailypapers.config import Config
from dailypapers.demo import DEMO_CORPUS, demo_days, import_demo
from dailypapers.library import Library
from dailypapers.papers.models import author_slug
from dailypapers.web.app import create_app
from tests.demo import demo_embedder, running_server

pytestmark = pytest.mark.slow  # a server, a browser and ~150 page loads

WIDTH = 360
PASSWORD = "a long enough pass phrase 42"
MENUS = {  # what the header offers at least, in each state
    "signed out": ["Today", "This week", "This month", "Trending", "Log in", "Sign up"],
    "signed in": ["Today", "This week", "This month", "Trending", "Submit", "For you", "Collections", "Alerts",
                  "ann", "Log out"],
    "admin": ["Today", "This week", "This month", "Trending", "Submit", "For you", "Collections", "Alerts", "root",
              "Moderation", "Claims", "Status", "Log out"],
}  # fmt: skip
LOGIN = {"signed out": None, "signed in": "ann", "admin": "root"}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass
class Site:
    base: str
    paths: list[str]


def html_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every GET route that answers an HTML page, also inside included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            if "GET" in route.methods and route.response_class is HTMLResponse:
                yield route
        elif hasattr(route, "original_router"):
            yield from html_routes(route.original_router.routes)


def page_paths(app: FastAPI, samples: dict[str, str], extra: Sequence[str]) -> list[str]:
    paths = []
    for route in html_routes(app.routes):
        names = _PARAM.findall(route.path)
        missing = [name for name in names if name not in samples]
        assert not missing, f"{route.path}: no sample for {missing}; add one to this test"
        paths.append(_PARAM.sub(lambda m: samples[m.group(1)], route.path))
    assert len(paths) >= 30, paths  # the walk is not vacuous
    return list(dict.fromkeys([*paths, *extra]))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    corpus = tmp_path_factory.mktemp("corpus") / "papers.jsonl"
    corpus.write_text("\n".join(DEMO_CORPUS.read_text(encoding="utf-8").splitlines()[:40]) + "\n", encoding="utf-8")
    config = Config(data_dir=tmp_path_factory.mktemp("narrow-data"), password_hash="cheapest")
    lib = Library(config, embedder=demo_embedder())
    try:
        lib.init()
        import_demo(lib, corpus, progress=False)
        lib.accounts.create_user("root", "root@example.org", PASSWORD, admin=True)
        ann = lib.accounts.create_user("ann", "ann@example.org", PASSWORD)
        paper = max(
            (p for p in lib.store.iter_papers() if p.authors and p.categories), key=lambda p: len(p.authors)
        )  # the longest author list
        assert paper.pk is not None
        shelf = lib.collections.create(ann.id, "Papers to read on the train " * 3, "A " + "long " * 40, public=True)
        lib.collections.add(shelf.id, ann.id, paper.pk, note="See https://example.org/" + "x" * 120)
        comment = lib.comments.add(paper.pk, ann.id, "Code: https://github.com/example/" + "y" * 120)
        lib.claims.claim(paper.pk, ann.id, paper.authors[0])
        sub = lib.subscriptions.subscribe("reader@example.org")
        day = demo_days(date.today())[-1]  # the newest day import_demo filled
        iso = day.isocalendar()
        samples = {
            "day": day.isoformat(), "week": f"{iso.year}-W{iso.week:02d}", "month": day.strftime("%Y-%m"),
            "paper_id": paper.id, "cid": shelf.id, "comment_id": comment.id, "username": "ann",
            "slug": author_slug(paper.authors[0]),
            "ticket": "no-such-ticket", "phrase": "language models",
        }  # fmt: skip
        extra = [
            "/search?q=transformer", "/search?q=2501.01234", f"/search?q=learning&category={paper.categories[0]}",
            f"/collections/add?paper={paper.id}", f"/submit?id={'9' * 4}.{'1' * 5}", "/trending?window=month",
            f"/subscription/manage?token={lib.links.token('manage', sub)}",
            f"/unsubscribe?token={lib.links.token('unsubscribe', sub)}",
            f"/subscribe/confirm?token={lib.links.token('confirm', sub)}",
        ]  # fmt: skip
        paths = page_paths(create_app(lib), samples, extra)
    finally:
        lib.close()
    with running_server(config) as base:  # the first search loads the model: the browser waits for it
        yield Site(base, paths)


@pytest.fixture(scope="module")
def phones(browser: Any, site: Site) -> Iterator[dict[str, Any]]:
    """A page at 360 × 740 without JavaScript for each state, logged in through the form."""
    pages = {}
    for state, username in LOGIN.items():
        page = browser.new_page(viewport={"width": WIDTH, "height": 740}, java_script_enabled=False)
        if username:
            page.goto(site.base + "/login")
            page.fill("#login", username)
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state("load")
            assert page.locator("nav.account").inner_text().startswith(username)
        pages[state] = page
    yield pages
    for page in pages.values():
        page.context.close()


WIDTHS = "() => [document.documentElement.scrollWidth, [...document.querySelectorAll('body *')]" \
    ".filter(e => e.getBoundingClientRect().right > " + str(WIDTH) + ").slice(-3).map(e => e.tagName + '.' + " \
    "e.className)]"  # fmt: skip


@pytest.mark.parametrize("state", list(LOGIN))
def test_every_page_fits_360_px(phones: dict[str, Any], site: Site, state: str) -> None:
    page = phones[state]
    too_wide = []
    for path in site.paths:
        response = page.goto(site.base + path)
        assert response is not None and response.status < 500, (path, response and response.status)
        width, culprits = page.evaluate(WIDTHS)
        if width > WIDTH:
            too_wide.append((path, width, culprits))
    assert too_wide == [], f"{state}: pages wider than {WIDTH} px"


@pytest.mark.parametrize("state", list(LOGIN))
def test_every_menu_item_is_on_the_screen(phones: dict[str, Any], site: Site, state: str) -> None:
    page = phones[state]
    page.goto(site.base + "/")
    items = page.locator("header.site nav a, header.site nav button")
    shown = []
    for i in range(items.count()):
        item = items.nth(i)
        box = item.bounding_box()
        assert item.is_visible() and box is not None, item.inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (item.inner_text(), box)
        shown.append(item.inner_text().strip())
    missing = [name for name in MENUS[state] if name not in shown]  # every item was checked above, new ones too
    assert not missing, (missing, shown)


def test_subscription_choices_one_per_line_each_on_its_label(phones: dict[str, Any], site: Site) -> None:
    page = phones["signed in"]
    page.goto(site.base + "/subscribe")
    labels = page.locator("form.stacked label.choice")
    assert labels.count() >= 7  # two frequencies, weekends, four sections
    previous_bottom = 0.0
    for i in range(labels.count()):
        label = labels.nth(i)
        outer, box = label.bounding_box(), label.locator("input").bounding_box()
        assert outer is not None and box is not None
        assert outer["y"] >= previous_bottom - 1, label.inner_text()  # below the previous choice
        assert outer["x"] <= box["x"] and box["x"] + box["width"] <= outer["x"] + outer["width"]
        assert outer["y"] <= box["y"] + box["height"] / 2 <= outer["y"] + outer["height"]  # the box on its line
        text = label.locator("span").bounding_box()
        assert text is not None and 0 < text["x"] - (box["x"] + box["width"]) < 20  # its text right beside it
        previous_bottom = outer["y"] + outer["height"]
