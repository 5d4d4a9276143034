"""Fetch papers from the arXiv API (Atom 1.0 feeds), politely: one connection, one request every ``delay`` seconds.

:func:`read_arxiv` pages through a search (``cat:cs.LG``, ``all:diffusion``, ...) newest first with ``start`` and
``max_results`` until ``max_results`` papers or the feed's ``opensearch:totalResults`` are reached.
:func:`arxiv_id_lookup` fetches given papers by id (``id_list=``).

Rules the client keeps (arXiv's terms of use ask for them; the spacing and the retries are
:class:`~dailypapers.papers.sources.polite.PoliteClient`'s, which the OAI-PMH harvester shares):

* requests are sequential over one ``httpx.Client``, each starting at least ``delay`` seconds after the previous
  one started (waiting goes through the injected ``sleep``, so tests can record it or use a tiny delay);
* HTTP 429/5xx, network errors and a 200 whose body is ``Rate exceeded.`` are retried up to ``retries`` times,
  waiting ``Retry-After`` seconds when the server sends it, else ``delay * 2**n``; then :class:`SourceError`;
* an entry titled ``Error`` (arXiv reports a bad query that way, with HTTP 200 or 400) raises
  :class:`SourceError` with arXiv's message; malformed XML raises :class:`SourceError` naming the page;
* a page with no entries although ``totalResults`` says more exist (arXiv does this now and then) is fetched
  again, counting toward ``retries``; if it stays empty the import stops there with a logged warning instead of
  failing, so the papers already read are kept.

A malformed entry (no id, no title, bad date) is yielded as :class:`Rejected` (``page P, entry E``).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Unpack

from dailypapers.papers.models import (
    InvalidRecord,
    Paper,
    make_paper,
    normalize_space,
    parse_arxiv_id,
    utc_field,
)
from dailypapers.papers.sources.base import Record, Rejected, SourceError, parse_untrusted_xml, xml_text
from dailypapers.papers.sources.polite import ClientOptions, PoliteClient, Retry, retry_after

if TYPE_CHECKING:
    from dailypapers.config import Config

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
_A, _X, _OS = f"{{{ATOM_NS}}}", f"{{{ARXIV_NS}}}", f"{{{OPENSEARCH_NS}}}"

DEFAULT_URL = "https://export.arxiv.org/api/query"
MAX_PAGE = 2000  # arXiv's largest max_result per request
USER_AGENT = "dailypapers (self-hosted paper digest; polite arXiv API client)"

log = logging.getLogger(__name__)


class ArxivQueryError(SourceError):
    """arXiv answered with its ``Error`` entry (a malformed query or id); the message is arXiv's."""


def arxiv_options(config: Config) -> dict[str, Any]:
    """The client settings from a :class:`~dailypapers.config.Config`, as keyword arguments for :func:`read_arxiv`."""
    return {
        "base_url": config.arxiv_api_url,
        "delay": config.arxiv_delay,
        "retries": config.arxiv_retries,
        "timeout": config.http_timeout,
    }


def _date(el: ET.Element, tag: str) -> datetime | None:
    raw = xml_text(el, tag)
    if raw is None:
        return None
    name = tag.split("}")[-1]
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidRecord(f"{name} is not an ISO date: {raw!r}") from None
    return utc_field(parsed, name)


def _error_message(entry: ET.Element) -> str | None:
    """arXiv's message when ``entry`` is its error entry (title ``Error``, id under ``/api/errors``), else None."""
    entry_id = xml_text(entry, f"{_A}id") or ""
    if xml_text(entry, f"{_A}title") != "Error" or ("/api/errors" not in entry_id and parse_arxiv_id(entry_id)):
        return None
    return xml_text(entry, f"{_A}summary") or entry_id or "unknown error"


def paper_from_entry(entry: ET.Element) -> Paper:
    """Build a paper from one Atom ``<entry>``; raises :class:`InvalidRecord` when it lacks an id or title."""
    entry_id = xml_text(entry, f"{_A}id")
    if not entry_id:
        raise InvalidRecord("missing id")
    authors: list[str] = []
    affiliations: list[str | None] = []
    for author in entry.findall(f"{_A}author"):
        name = xml_text(author, f"{_A}name")
        if name:
            authors.append(name)
            affs = [normalize_space(a.text) for a in author.findall(f"{_X}affiliation")]
            affiliations.append("; ".join(a for a in affs if a) or None)
    extra: dict[str, Any] = {}
    for link in entry.findall(f"{_A}link"):
        href, rel, title = link.get("href"), link.get("rel"), link.get("title")
        if href and rel == "alternate":
            extra.setdefault("abs_url", href)
        elif href and (title == "pdf" or (rel == "related" and link.get("type") == "application/pdf")):
            extra.setdefault("pdf_url", href)
    terms = [t for t in (c.get("term") for c in entry.findall(f"{_A}category")) if t]
    prim = entry.find(f"{_X}primary_category")
    primary = prim.get("term") if prim is not None else None
    primary = primary or (terms[0] if terms else None)
    categories = list(dict.fromkeys(([primary] if primary else []) + terms))
    return make_paper(
        title=xml_text(entry, f"{_A}title"),
        abstract=xml_text(entry, f"{_A}summary"),
        arxiv_id=entry_id,
        source="arxiv",
        authors=authors,
        affiliations=affiliations if any(affiliations) else [],
        categories=categories,
        primary_category=primary,
        published=_date(entry, f"{_A}published"),
        updated=_date(entry, f"{_A}updated"),
        comment=xml_text(entry, f"{_X}comment"),
        journal_ref=xml_text(entry, f"{_X}journal_ref"),
        doi=xml_text(entry, f"{_X}doi"),
        **extra,
    )


def parse_feed(body: bytes, page: int) -> tuple[int | None, list[Record]]:
    """``(totalResults, records)`` of one Atom page; raises :class:`SourceError` for bad or hostile XML or an error
    entry."""
    # defusedxml: an Atom page declares no DTD or entities, so one that does (billion laughs, XXE) is refused.
    root = parse_untrusted_xml(body, f"arXiv API page {page}", expected="an Atom page")
    if root.tag != f"{_A}feed":
        raise SourceError(f"arXiv API page {page}: not an Atom feed (root element {root.tag!r})")
    entries = root.findall(f"{_A}entry")
    for entry in entries:
        message = _error_message(entry)
        if message is not None:
            raise ArxivQueryError(f"arXiv API error: {message}")
    total_text = xml_text(root, f"{_OS}totalResults")
    # ASCII digits only (str.isdigit() also accepts "¹", which int() refuses: tests/fuzz/test_fuzz_xml.py)
    total = int(total_text) if total_text and total_text.isascii() and total_text.isdigit() else None
    records: list[Record] = []
    for number, entry in enumerate(entries, 1):
        try:
            records.append(paper_from_entry(entry))
        except InvalidRecord as exc:
            records.append(Rejected(f"page {page}, entry {number}", str(exc)))
    return total, records


class ArxivClient(PoliteClient):
    """One polite connection to the arXiv API (:class:`PoliteClient`); a ``Rate exceeded.`` body is retried too."""

    default_url, user_agent, log = DEFAULT_URL, USER_AGENT, log

    def _answer(self, params: dict[str, Any], page: int) -> bytes | Retry:
        """The body of a 200, :class:`Retry` for what the module docstring retries; else :class:`SourceError`."""
        got = self.get(params, f"arXiv API page {page}")
        if isinstance(got, Retry):
            return got
        resp, body = got
        if resp.status_code == 200:
            if body.strip().startswith(b"Rate exceeded"):
                return Retry("Rate exceeded.", retry_after(resp.headers.get("Retry-After")))
            return body
        try:  # a bad query may answer 400 with an Atom error entry: then report arXiv's message
            parse_feed(body, page)
        except ArxivQueryError:
            raise
        except SourceError:
            pass
        raise SourceError(f"arXiv API page {page}: HTTP {resp.status_code} from {resp.url}")

    def fetch_page(self, params: dict[str, Any], page: int) -> tuple[int | None, list[Record]]:
        """Fetch and parse one page, retrying as the module docstring says; returns ``(totalResults, records)``."""

        def attempt(last: bool) -> tuple[int | None, list[Record]] | Retry:
            body = self._answer(params, page)
            if isinstance(body, Retry):
                return body
            total, records = parsed = parse_feed(body, page)
            if records or total is None or int(params.get("start", 0)) >= total:
                return parsed
            if not last:
                return Retry(f"no entries although totalResults is {total}")
            log.warning("arXiv API page %d stayed empty after %d retries; stopping the import here", page, self.retries)
            return parsed  # keep what was read so far

        return self.retrying(f"arXiv API page {page}", attempt)

    def paged(self, params: dict[str, Any], max_results: int, page_size: int, first_page: int = 1) -> Iterator[Record]:
        """Page through a query with ``start``/``max_results`` until ``max_results`` or ``totalResults``."""
        page_size = max(1, min(page_size, MAX_PAGE))
        start, page, total = 0, first_page, None
        while start < max_results and (total is None or start < total):
            want = min(page_size, max_results - start)
            total, records = self.fetch_page({**params, "start": start, "max_results": want}, page)
            if not records:
                break
            yield from records[: max_results - start]
            start += len(records)
            page += 1
            if total is None and len(records) < want:
                break


def read_arxiv(
    query: str,
    *,
    max_results: int,
    page_size: int = 100,
    sort_by: str = "submittedDate",
    sort_order: str = "descending",
    **options: Unpack[ClientOptions],
) -> Iterator[Record]:
    """Yield up to ``max_results`` papers matching the arXiv ``query`` (e.g. ``cat:cs.LG``), newest first;
    ``options`` go to the :class:`ArxivClient` (``base_url``, ``delay``, ``retries``, ``timeout``, ...)."""
    if max_results <= 0:
        return
    with ArxivClient(**options) as api:
        params = {"search_query": query, "sortBy": sort_by, "sortOrder": sort_order}
        yield from api.paged(params, max_results, page_size)


def arxiv_id_lookup(
    ids: list[str],
    *,
    batch: int = 100,
    **options: Unpack[ClientOptions],
) -> Iterator[Record]:
    """Yield the papers with these arXiv ids (any form :func:`parse_arxiv_id` accepts), ``batch`` ids a request;
    ``options`` go to the :class:`ArxivClient`.

    A string that is not an arXiv id raises :class:`SourceError` before any request is made.
    """
    wanted: list[str] = []
    for raw in ids:
        parsed = parse_arxiv_id(raw)
        if parsed is None:
            raise SourceError(f"not an arXiv id: {raw!r}")
        wanted.append(parsed[0] if parsed[1] is None else f"{parsed[0]}v{parsed[1]}")
    wanted = list(dict.fromkeys(wanted))
    with ArxivClient(**options) as api:
        for i in range(0, len(wanted), batch):
            chunk = wanted[i : i + batch]
            yield from api.paged({"id_list": ",".join(chunk)}, len(chunk), len(chunk), first_page=i // batch + 1)
