"""What the real-browser tests share: Debian's chromium, driven by Playwright (a browser is never downloaded).

Without chromium the tests of this folder are skipped, unless DAILYPAPERS_REQUIRE_BROWSER=1 (CI installs chromium
and sets it, so there a missing browser is a failure, not a silent skip).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
    if os.environ.get("DAILYPAPERS_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required (apt-get install chromium)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


# Playwright waits 30 s for a state by default; on a loaded 2-core machine a first search (model warm-up) took
# longer. A wait still ends as soon as the state is reached: the longer limit only delays a real failure.
PATIENCE_MS = 180_000


class PatientBrowser:
    """The browser, whose pages and contexts wait up to :data:`PATIENCE_MS` for what a test waits for."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser

    def new_context(self, **options: Any) -> Any:
        context = self.browser.new_context(**options)
        context.set_default_timeout(PATIENCE_MS)
        context.set_default_navigation_timeout(PATIENCE_MS)
        return context

    def new_page(self, **options: Any) -> Any:
        return self.new_context(**options).new_page()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.browser, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless chromium per test module (flags: no sandbox in containers, no network of its own)."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield PatientBrowser(b)
        b.close()
