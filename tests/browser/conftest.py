"""What the real-browser tests share: Debian's chromium, driven by Playwright (a browser is never downloaded).

Without chromium the tests of this folder are skipped, unless DAILYPAPERS_REQUIRE_BROWSER=1 (CI installs chromium
and sets it, so there a missing browser is a failure, not a silent skip).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
    if os.environ.get("DAILYPAPERS_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required (apt-get install chromium)")
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless chromium per test module (flags: no sandbox in containers, no network of its own)."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()
