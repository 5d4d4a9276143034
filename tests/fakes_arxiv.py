"""Real local HTTP servers for tests that talk to the arXiv API: the request-recording server every fake is built
on, and :class:`ArxivById`, a fake arXiv API that answers ``id_list`` lookups from papers a test defines.

The servers are ``http.server.ThreadingHTTPServer`` instances on 127.0.0.1 with an OS-chosen port, speaking
HTTP/1.1 keep-alive like arXiv does, and recording every request (arrival time, path, query parameters and the
client's port, so tests can check paging, retries, spacing and that one connection was used). The Atom that
:class:`ArxivById` writes has the shape of arXiv's own (see ``tests/papers/sources/fixtures/arxiv_page1.xml``),
built with an XML library so a hostile title in a test reaches the app as arXiv would send it: escaped once.
"""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

Response = tuple[int, dict[str, str], bytes]
ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}
ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"


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
def serve(server: LocalServer) -> Iterator[LocalServer]:
    """Run ``server`` on 127.0.0.1 until the block ends; ``server.url`` is its address."""

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


@dataclass
class FakePaper:
    """What the fake arXiv knows about one paper (``published``: its first version)."""

    arxiv_id: str  # without version
    title: str
    published: datetime
    version: int = 1
    abstract: str = "We study a problem and solve it well."
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing")
    category: str = "cs.LG"


def days_ago(days: int) -> datetime:
    """Noon UTC ``days`` days before today (a paper's first publication relative to the test's today)."""
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days)


def _feed(entries: list[ET.Element], total: int) -> bytes:
    ET.register_namespace("", ATOM_NS)
    ET.register_namespace("arxiv", ARXIV_NS)
    ET.register_namespace("opensearch", OPENSEARCH_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = "arXiv Query: id_list"
    ET.SubElement(feed, f"{{{OPENSEARCH_NS}}}totalResults").text = str(total)
    feed.extend(entries)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def atom_entry(paper: FakePaper, version: int | None = None) -> ET.Element:
    """``paper`` as an arXiv Atom ``<entry>`` (of ``version``, default its latest)."""
    a = f"{{{ATOM_NS}}}"
    v = version or paper.version
    entry = ET.Element(f"{a}entry")
    ET.SubElement(entry, f"{a}id").text = f"http://arxiv.org/abs/{paper.arxiv_id}v{v}"
    ET.SubElement(entry, f"{a}updated").text = paper.published.isoformat()
    ET.SubElement(entry, f"{a}published").text = paper.published.isoformat()
    ET.SubElement(entry, f"{a}title").text = paper.title
    ET.SubElement(entry, f"{a}summary").text = paper.abstract
    for name in paper.authors:
        ET.SubElement(ET.SubElement(entry, f"{a}author"), f"{a}name").text = name
    ET.SubElement(entry, f"{a}link", href=f"http://arxiv.org/abs/{paper.arxiv_id}v{v}", rel="alternate")
    pdf = f"http://arxiv.org/pdf/{paper.arxiv_id}v{v}"
    ET.SubElement(entry, f"{a}link", href=pdf, rel="related", type="application/pdf", title="pdf")
    ET.SubElement(entry, f"{{{ARXIV_NS}}}primary_category", term=paper.category)
    ET.SubElement(entry, f"{a}category", term=paper.category)
    return entry


def error_entry(message: str) -> ET.Element:
    """arXiv's way of reporting a bad id: an entry titled ``Error`` under ``/api/errors``."""
    a = f"{{{ATOM_NS}}}"
    entry = ET.Element(f"{a}entry")
    ET.SubElement(entry, f"{a}id").text = "http://arxiv.org/api/errors#" + message.replace(" ", "_")
    ET.SubElement(entry, f"{a}title").text = "Error"
    ET.SubElement(entry, f"{a}summary").text = message
    return entry


class ArxivById(LocalServer):
    """The arXiv API's ``id_list`` lookups over :attr:`papers` (keyed by id without version).

    An unknown id gets an empty feed (``totalResults`` 0), or arXiv's error entry when ``unknown_as_error``.
    ``script`` holds responses for the next requests, in order (``None``: the normal answer).
    """

    def __init__(self) -> None:
        super().__init__(handler=self.respond)
        self.papers: dict[str, FakePaper] = {}
        self.script: list[Response | None] = []
        self.unknown_as_error = False

    def add(self, paper: FakePaper) -> FakePaper:
        self.papers[paper.arxiv_id] = paper
        return paper

    def respond(self, path: str, params: dict[str, str]) -> Response:
        if self.script:
            scripted = self.script.pop(0)
            if scripted is not None:
                return scripted
        if path != "/api/query" or "id_list" not in params:
            return 404, {}, b"not found"
        entries: list[ET.Element] = []
        for wanted in params["id_list"].split(","):
            base, _, version = wanted.rpartition("v") if "v" in wanted.split("/")[-1] else (wanted, "", "")
            known = self.papers.get(base)
            if known is not None:
                entries.append(atom_entry(known, int(version) if version else None))
            elif self.unknown_as_error:
                entries.append(error_entry(f"incorrect id format for {wanted}"))
        return 200, ATOM, _feed(entries, len(entries))


@contextmanager
def arxiv_by_id() -> Iterator[ArxivById]:
    """A running :class:`ArxivById`; its ``url`` is the API's (``…/api/query``), as ``DAILYPAPERS_ARXIV_API_URL``."""
    with serve(ArxivById()) as fake:
        assert isinstance(fake, ArxivById)
        fake.url += "/api/query"
        yield fake
