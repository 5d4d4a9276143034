"""The topic map in a real browser: /map draws its points on a canvas, a hovered point shows its title, a click
opens its paper, the wheel zooms; the screenshot is kept in ``test-artifacts/map.png`` and checked not blank."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.sources.jsonl import read_jsonl
from tests.browser.png import is_blank
from tests.demo import DEMO_CORPUS, DEMO_DAYS, demo_embedder, running_server

ARTIFACTS = Path(os.environ.get("DAILYPAPERS_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """60 demo papers, their map computed, served by the real server."""
    corpus = tmp_path_factory.mktemp("corpus") / "papers.jsonl"
    corpus.write_text("\n".join(DEMO_CORPUS.read_text().splitlines()[:60]) + "\n")
    config = Config(password_hash="cheapest", data_dir=tmp_path_factory.mktemp("map-data"))
    lib = Library(config, embedder=demo_embedder())
    lib.init()
    lib.ingest(read_jsonl(corpus), added_at=DEMO_DAYS[-1], progress=False, index=True)
    lib.topics.update_map()
    lib.close()
    with running_server(config) as base:
        yield base


def _point_on_screen(page: Any, base: str, index: int) -> tuple[float, float, list[str]]:
    """Page coordinates of point ``index`` (the map starts unzoomed) and every point's title."""
    data = httpx.get(base + "/api/map").json()
    titles = httpx.get(base + "/api/map/titles").json()["titles"]
    box = page.locator("#topic-map").bounding_box()
    x = box["x"] + data["points"]["x"][index] / 10_000 * box["width"]
    y = box["y"] + data["points"]["y"][index] / 10_000 * box["height"]
    return x, y, titles


def test_map_draws_hovers_clicks_and_zooms(site: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 1600})  # the whole canvas in view: no scrolling
    page.goto(site + "/map")
    page.wait_for_selector('#topic-map[data-ready="1"][data-titles="1"]')
    stats = page.evaluate("window.mapStats")
    assert stats["points"] == 60 and stats["firstPaint"] is not None

    x, y, titles = _point_on_screen(page, site, 7)
    page.mouse.move(x, y)
    tip = page.locator("#map-tip")
    tip.wait_for(state="visible")
    # the nearest point's title: this paper's, or that of a paper drawn on top of it
    assert (tip.text_content() or "") in titles

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = page.locator(".map-frame").screenshot()
    (ARTIFACTS / "map.png").write_bytes(shot)
    assert not is_blank(shot)

    frames = len(page.evaluate("window.mapStats.frames"))
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"window.mapStats.frames.length > {frames}")  # the zoom redrew the map

    page.goto(site + "/map")
    page.wait_for_selector('#topic-map[data-ready="1"][data-titles="1"]')
    x, y, _ = _point_on_screen(page, site, 7)
    page.mouse.move(x, y)
    page.locator("#map-tip").wait_for(state="visible")
    shown = page.locator("#map-tip").text_content() or ""
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"/papers/"))
    assert shown and shown in html.unescape(page.content())  # the paper whose title the tip showed
