"""Fixtures for the source tests: fixture-file paths and real local HTTP servers (a fake arXiv API among them).

The servers are ``http.server.ThreadingHTTPServer`` instances on 127.0.0.1 with an OS-chosen port, speaking
HTTP/1.1 keep-alive like arXiv does, and recording every request (arrival time, path, query parameters and the
client's port, so tests can check paging, retries, spacing and that one connection was used).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest

from dailypapers.demo import DEMO_CORPUS as DEMO_PACKAGE_CORPUS

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_CORPUS = DEMO_PACKAGE_CORPUS

Response = tuple[int, dict[str, str], bytes]
ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}


@dataclass
class Seen:
    """One request as the server saw it."""

    at: float  # time.monotonic() on arrival
    path: str
    params: dict[str, str]
    client_port: int


@dataclass
class LocalServer:
    """A real HTTP server in a thread; ``handler(path, params)`` answers every GET."""

    handler: Callable[[str, dict[str, str]], Response]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def gaps(self) -> list[float]:
        """Seconds between the arrivals of consecutive requests."""
        return [b.at - a.at for a, b in zip(self.seen, self.seen[1:], strict=False)]


@contextmanager
def _serve(server: LocalServer) -> Iterator[LocalServer]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            server.seen.append(Seen(time.monotonic(), parts.path, params, self.client_address[1]))
            status, headers, body = server.handler(parts.path, params)
            self.send_response(status)
            for key, value in {"Content-Type": "text/plain; charset=utf-8", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


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
