"""Fixtures for the source tests: fixture-file paths and real local HTTP servers (a fake arXiv API among them).

The servers are those of :mod:`tests.fakes_arxiv` (shared with the submission tests): real HTTP servers on
127.0.0.1 that record every request (arrival time, path, query parameters and the client's port, so tests can
check paging, retries, spacing and that one connection was used).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from dailypapers.demo import DEMO_CORPUS as DEMO_PACKAGE_CORPUS
from tests.fakes_arxiv import ATOM, LocalServer, Response, Seen
from tests.fakes_arxiv import serve as _serve

__all__ = ["ATOM", "FakeArxiv", "LocalServer", "Response", "Seen", "fixture_bytes"]

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_CORPUS = DEMO_PACKAGE_CORPUS


class FakeArxiv(LocalServer):
    """The arXiv API at ``url``: serves the fixture pages by ``start`` (5 results, pages of 2).

    ``script`` holds responses for the next requests, in order (``None``: the normal page); when it runs out,
    every request gets its normal page. ``id_list`` queries get page 1.
    """

    pages: ClassVar[dict[int, str]] = {0: "arxiv_page1.xml", 2: "arxiv_page2.xml", 4: "arxiv_page3.xml"}

    def __init__(self) -> None:
        super().__init__(handler=self.respond)
        self.script: list[Response | None] = []

    def respond(self, path: str, params: dict[str, str]) -> Response:
        if self.script:
            scripted = self.script.pop(0)
            if scripted is not None:
                return scripted
        if path != "/api/query":
            return 404, {}, b"not found"
        if "id_list" in params:
            return 200, ATOM, fixture_bytes("arxiv_page1.xml")
        return 200, ATOM, fixture_bytes(self.pages.get(int(params.get("start", "0")), "arxiv_empty.xml"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def arxiv_server() -> Iterator[FakeArxiv]:
    with _serve(FakeArxiv()) as fake:
        assert isinstance(fake, FakeArxiv)
        fake.url += "/api/query"
        yield fake


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A server serving the fixture files at ``/<name>`` (404 for unknown names)."""

    def files(path: str, params: dict[str, str]) -> Response:
        target = FIXTURES / path.lstrip("/")
        if path.count("/") == 1 and target.is_file():
            return 200, {"Content-Type": "application/json"}, target.read_bytes()
        return 404, {}, b'{"error": "Not Found"}'

    with _serve(LocalServer(handler=files)) as server:
        yield server
