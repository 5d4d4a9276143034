"""A digest's HTML part in a real browser: Debian's chromium (headless, through Playwright) renders the email as a
mail client would show it, from the message itself (no server), photographed at desktop and phone widths.

The screenshots are kept in ``test-artifacts/`` (``digest-email-desktop.png``, ``digest-email-phone.png``) and
checked not blank; on the phone the email must not be wider than the screen. The email must render without asking
for anything — no image, style sheet, font or script from anywhere (mail clients block them, and a tracking pixel
is not ours to send) — and the hostile paper's markup must be text on the screen, never an element.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.mail.render import parts
from dailypapers.papers.models import Paper, make_paper
from dailypapers.papers.sources.jsonl import read_jsonl
from tests.browser.png import is_blank
from tests.demo import DEMO_CORPUS

ARTIFACTS = Path(os.environ.get("DAILYPAPERS_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
FRIDAY = date(2026, 11, 20)
HOSTILE = 'Robust <img src="https://tracker.example/p.gif" onerror="window.__pwned=1"> Learning <script>x()</script>'
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digest_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The HTML part of a preview digest on a small library: demo papers and a hostile one, added on Friday."""
    lib = Library(Config(password_hash="cheapest", data_dir=tmp_path_factory.mktemp("digest-browser"), mailer="none"))
    lib.init()
    hostile = make_paper(source="jsonl", arxiv_id="2611.30001", title=HOSTILE, upvotes=9, categories=["cs.LG"],
                         authors=["Eve <b>Evil</b>", "Ada Lovelace"],
                         abstract="A long abstract " + "about learning robustly from noisy labels " * 20)  # fmt: skip
    demo = [r for r in read_jsonl(DEMO_CORPUS) if isinstance(r, Paper)][:12]
    lib.ingest([hostile, *demo], added_at=FRIDAY, progress=False, index=False)
    try:
        _, html = parts(lib.digests.preview("reader@example.org", period=FRIDAY.isoformat()))
    finally:
        lib.close()
    return html


@pytest.mark.parametrize(("device", "width"), [("desktop", 1280), ("phone", 375)])
def test_the_digest_renders_by_itself(browser: object, digest_html: str, device: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.route("**/*", lambda route: route.abort())  # nothing may load; a request would be listed in `asked`
    page.set_content(digest_html, wait_until="load")
    assert asked == []  # no image, style sheet, font or script: the email needs nothing from anywhere
    assert page.evaluate("document.scripts.length") == 0 and page.evaluate("document.images.length") == 0
    assert page.evaluate("window.__pwned === undefined")
    assert HOSTILE in page.locator("body").inner_text()  # the hostile title is on the screen, as text
    assert page.locator("a", has_text="Paper page").count() == 10  # the digest's papers (10 a section)
    assert page.get_by_text("Why: trending in cs.LG (9 upvotes)").count() == 1
    assert page.locator("a", has_text="Unsubscribe").count() == 1
    if device == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = page.screenshot(full_page=True)
    (ARTIFACTS / f"digest-email-{device}.png").write_bytes(shot)
    assert not is_blank(shot), f"the digest at {device} width is blank"
    page.close()
