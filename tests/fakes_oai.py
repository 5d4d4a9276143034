"""A fake arXiv OAI-PMH server for tests: a real HTTP server on 127.0.0.1 (the request-recording
:class:`~tests.fakes_arxiv.LocalServer`) that answers ``ListRecords`` in both arXiv formats, in pages.

It speaks the protocol as arXiv does (OAI-PMH 2.0): the first request names ``metadataPrefix``, ``set``, ``from``
and ``until``; each page but the last ends with a ``<resumptionToken cursor=… completeListSize=…>``, the last with
an empty one; a resumption request must carry nothing but ``verb`` and the token. Errors come in the body:
``noRecordsMatch`` when nothing matches, ``badResumptionToken`` for an unknown or :attr:`FakeOai.expired` token,
``badArgument`` and ``cannotDisseminateFormat``. The XML is written with an XML library in arXiv's namespaces, so
text reaches the client escaped once, as arXiv sends it.

Tests steer it with :attr:`FakeOai.once` (a response served once instead of page N, e.g. a 503 with
``Retry-After``) and :attr:`FakeOai.hold_page` (the server stops answering at that page until :attr:`release` is
set, and sets :attr:`holding` when it gets there, so a test knows a client is mid-harvest).
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import format_datetime
from itertools import count

from tests.fakes_arxiv import LocalServer, Response, serve

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
RAW_NS = "http://arxiv.org/OAI/arXivRaw/"
XML = {"Content-Type": "text/xml; charset=utf-8"}
Author = tuple[str, str, str, str]  # keyname, forenames, suffix, affiliation ("" when absent)


@dataclass
class OaiPaper:
    """What the fake knows about one paper: ``versions`` are the dates of v1, v2, …; ``datestamp`` is when its
    metadata last changed (what ``from``/``until`` select on)."""

    arxiv_id: str
    title: str
    datestamp: date
    versions: tuple[datetime, ...]
    abstract: str = "We study a problem and solve it well."
    authors: tuple[Author, ...] = (("Lovelace", "Ada", "", "Analytical Engine Society"), ("Turing", "Alan", "", ""))
    categories: str = "cs.LG stat.ML"
    deleted: bool = False


@dataclass
class FakeOai(LocalServer):
    """The OAI-PMH endpoint at ``url`` (``…/oai``) over :attr:`papers`, :attr:`page_size` records a page."""

    papers: list[OaiPaper] = field(default_factory=list)
    page_size: int = 3
    once: dict[int, Response] = field(default_factory=dict)
    hold_page: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    expired: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)
    """Every resumption token handed out, in order."""
    _tokens: dict[str, tuple[dict[str, str], int]] = field(default_factory=dict)
    _serial: Iterator[int] = field(default_factory=lambda: count(7000))

    def __post_init__(self) -> None:
        self.handler = self.respond

    def respond(self, path: str, params: dict[str, str]) -> Response:
        if path != "/oai":
            return 404, {}, b"not found"
        if params.get("verb") != "ListRecords":
            return error("badVerb", "only ListRecords here")
        if "resumptionToken" in params:
            if set(params) != {"verb", "resumptionToken"}:
                return error("badArgument", "resumptionToken is an exclusive argument")
            known = self._tokens.get(params["resumptionToken"])
            if known is None or params["resumptionToken"] in self.expired:
                return error("badResumptionToken", "The value of the resumptionToken argument is invalid or expired.")
            query, offset = known
        else:
            query, offset = params, 0
            if query.get("metadataPrefix") not in ("arXiv", "arXivRaw"):
                return error("cannotDisseminateFormat", f"Unknown metadata format {query.get('metadataPrefix')}")
        matching = self.matching(query)
        if not matching:
            return error("noRecordsMatch", "The combination of the values of the arguments results in an empty list.")
        number = offset // self.page_size + 1
        if number in self.once:
            return self.once.pop(number)
        if number == self.hold_page:
            self.holding.set()
            self.release.wait(60)
        token = None
        if offset + self.page_size < len(matching):
            token = f"{next(self._serial)}|{offset + self.page_size + 1}"
            self._tokens[token] = (query, offset + self.page_size)
            self.issued.append(token)
        chunk = matching[offset : offset + self.page_size]
        return 200, XML, page_xml(chunk, query["metadataPrefix"], token, offset, len(matching))

    def matching(self, query: dict[str, str]) -> list[OaiPaper]:
        """The papers of the set whose datestamp lies in [from, until], in datestamp order (as arXiv lists them)."""
        first, last = date.fromisoformat(query["from"]), date.fromisoformat(query["until"])
        archive = query.get("set", "").split(":")[-1]
        return sorted(
            (p for p in self.papers if first <= p.datestamp <= last and _in_archive(p, archive)),
            key=lambda p: (p.datestamp, p.arxiv_id),
        )

    def first_requests(self) -> list[int]:
        """Indexes in :attr:`seen` of requests that started a harvest (no resumption token)."""
        return [i for i, s in enumerate(self.seen) if "resumptionToken" not in s.params]


def _in_archive(paper: OaiPaper, archive: str) -> bool:
    return not archive or any(c.split(".")[0] == archive for c in paper.categories.split())


def error(code: str, message: str) -> Response:
    root = _root()
    ET.SubElement(root, f"{{{OAI_NS}}}error", code=code).text = message
    return 200, XML, ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _root() -> ET.Element:
    ET.register_namespace("", OAI_NS)
    root = ET.Element(f"{{{OAI_NS}}}OAI-PMH")
    ET.SubElement(root, f"{{{OAI_NS}}}responseDate").text = "2024-12-03T10:15:02Z"
    ET.SubElement(root, f"{{{OAI_NS}}}request", verb="ListRecords").text = "https://oaipmh.arxiv.org/oai"
    return root


def page_xml(papers: list[OaiPaper], prefix: str, token: str | None, cursor: int, size: int) -> bytes:
    """One ``ListRecords`` page in ``prefix``'s format, ending with ``token`` (an empty element at the end)."""
    o = f"{{{OAI_NS}}}"
    root = _root()
    listing = ET.SubElement(root, f"{o}ListRecords")
    for paper in papers:
        record = ET.SubElement(listing, f"{o}record")
        header = ET.SubElement(record, f"{o}header", status="deleted") if paper.deleted else None
        header = header if header is not None else ET.SubElement(record, f"{o}header")
        ET.SubElement(header, f"{o}identifier").text = f"oai:arXiv.org:{paper.arxiv_id}"
        ET.SubElement(header, f"{o}datestamp").text = paper.datestamp.isoformat()
        ET.SubElement(header, f"{o}setSpec").text = paper.categories.split()[0].split(".")[0]
        if not paper.deleted:
            meta = ET.SubElement(record, f"{o}metadata")
            meta.append(arxiv_metadata(paper) if prefix == "arXiv" else raw_metadata(paper))
    ET.SubElement(listing, f"{o}resumptionToken", cursor=str(cursor), completeListSize=str(size)).text = token
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def arxiv_metadata(paper: OaiPaper) -> ET.Element:
    a = f"{{{ARXIV_NS}}}"
    el = ET.Element(f"{a}arXiv")
    ET.SubElement(el, f"{a}id").text = paper.arxiv_id
    ET.SubElement(el, f"{a}created").text = paper.versions[0].date().isoformat()
    if len(paper.versions) > 1:
        ET.SubElement(el, f"{a}updated").text = paper.versions[-1].date().isoformat()
    authors = ET.SubElement(el, f"{a}authors")
    for keyname, forenames, suffix, affiliation in paper.authors:
        author = ET.SubElement(authors, f"{a}author")
        for tag, value in (("keyname", keyname), ("forenames", forenames), ("suffix", suffix)):
            if value:
                ET.SubElement(author, f"{a}{tag}").text = value
        if affiliation:
            ET.SubElement(author, f"{a}affiliation").text = affiliation
    ET.SubElement(el, f"{a}title").text = paper.title
    ET.SubElement(el, f"{a}categories").text = paper.categories
    ET.SubElement(el, f"{a}license").text = "http://creativecommons.org/licenses/by/4.0/"
    ET.SubElement(el, f"{a}abstract").text = f"  {paper.abstract}\n"
    return el


def raw_metadata(paper: OaiPaper) -> ET.Element:
    r = f"{{{RAW_NS}}}"
    el = ET.Element(f"{r}arXivRaw")
    ET.SubElement(el, f"{r}id").text = paper.arxiv_id
    ET.SubElement(el, f"{r}submitter").text = " ".join(paper.authors[0][1::-1]).strip()
    for number, when in enumerate(paper.versions, 1):
        version = ET.SubElement(el, f"{r}version", version=f"v{number}")
        ET.SubElement(version, f"{r}date").text = format_datetime(when, usegmt=True)
        ET.SubElement(version, f"{r}size").text = "20kb"
    ET.SubElement(el, f"{r}title").text = paper.title
    names = [" ".join(p for p in (first, key, suffix) if p) for key, first, suffix, _ in paper.authors]
    ET.SubElement(el, f"{r}authors").text = " and ".join(names)
    ET.SubElement(el, f"{r}categories").text = paper.categories
    ET.SubElement(el, f"{r}abstract").text = f"  {paper.abstract}\n"
    return el


@contextmanager
def fake_oai(papers: list[OaiPaper], page_size: int = 3) -> Iterator[FakeOai]:
    """A running :class:`FakeOai`; its ``url`` is the endpoint's, as ``DAILYPAPERS_OAI_URL`` takes it."""
    server = FakeOai(handler=lambda path, params: (500, {}, b""), papers=papers, page_size=page_size)
    with serve(server) as running:
        assert isinstance(running, FakeOai)
        running.url += "/oai"
        try:
            yield running
        finally:
            running.release.set()  # a held request ends (its client may be gone)
