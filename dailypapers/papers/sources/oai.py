"""Read arXiv's metadata in bulk over OAI-PMH 2.0 (``ListRecords``), one page per request, politely.

A harvest asks ``{base}?verb=ListRecords&metadataPrefix=arXiv&set=cs&from=YYYY-MM-DD&until=YYYY-MM-DD`` and then
``{base}?verb=ListRecords&resumptionToken=…`` (OAI-PMH 2.0 section 3.5: a resumption request carries no other
argument) until a page ends with an empty ``<resumptionToken/>`` or none. :class:`OaiClient` fetches one page at a
time; :mod:`dailypapers.papers.oai_harvest` drives the pages and keeps the resumption state.

* Requests are sequential over one ``httpx.Client``, each starting at least ``delay`` seconds after the previous
  one started (arXiv asks for 3 s). HTTP 503 with ``Retry-After`` is arXiv's flow control (OAI-PMH section 3.5.1):
  the client waits that long (seconds or an HTTP-date) and asks again; 429/5xx and network errors are retried the
  same way (``delay * 2**n`` without the header), at most ``retries`` times, then :class:`SourceError` (the
  spacing and the retries are :class:`~dailypapers.papers.sources.polite.PoliteClient`'s, shared with the API).
* OAI-PMH reports problems in the body (section 3.6): ``noRecordsMatch`` is an empty harvest, not an error; any
  other ``<error code=…>`` raises :class:`OaiError` naming the code and arXiv's message.
* The body is parsed with defusedxml and nothing else (:func:`~dailypapers.papers.sources.base.parse_untrusted_xml`):
  an OAI-PMH response has no DTD, so a DTD, an entity declaration (billion laughs) or an external reference raises
  :class:`SourceError` ("refused hostile XML"), as does a body over :data:`MAX_PAGE_BYTES`; nothing of such a page
  is imported.

Two metadata formats become :class:`~dailypapers.papers.models.Paper` (``source="arxiv-oai"``):

* ``arXiv`` (http://arxiv.org/OAI/arXiv/): authors split into ``keyname``/``forenames``/``suffix`` with their
  ``affiliation``; ``created`` (v1's day) and ``updated`` (the latest version's day). It names no version: the
  paper's ``version`` is None (unknown), which the upsert rule never lets replace a stored numbered version.
* ``arXivRaw`` (http://arxiv.org/OAI/arXivRaw/): one ``authors`` string and the version history; ``version`` is
  the highest ``<version version="vN">``, ``published`` v1's date and ``updated`` the latest version's.

Records whose header says ``status="deleted"`` are counted, not imported; a malformed record becomes a
:class:`Rejected` (``… page 2, record 7``). ``license`` is not kept: :class:`Paper` has no field for it.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from dailypapers.papers.models import InvalidRecord, Paper, make_paper, normalize_space
from dailypapers.papers.sources.base import Record, Rejected, SourceError, parse_untrusted_xml, xml_text
from dailypapers.papers.sources.jsonl import split_categories
from dailypapers.papers.sources.kaggle import parse_versions
from dailypapers.papers.sources.polite import PoliteClient, Retry

if TYPE_CHECKING:
    from dailypapers.config import Config

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
RAW_NS = "http://arxiv.org/OAI/arXivRaw/"
_O, _A, _R = f"{{{OAI_NS}}}", f"{{{ARXIV_NS}}}", f"{{{RAW_NS}}}"
FORMATS = ("arXiv", "arXivRaw")
DEFAULT_URL = "https://oaipmh.arxiv.org/oai"
MAX_PAGE_BYTES = 64 * 1024 * 1024  # a real page of 1000 arXivRaw records is a few MB
USER_AGENT = "dailypapers (self-hosted paper digest; polite OAI-PMH harvester)"
SOURCE = "arxiv-oai"
NO_RECORDS = "noRecordsMatch"
PHYSICS_ARCHIVES = frozenset(
    "astro-ph cond-mat gr-qc hep-ex hep-lat hep-ph hep-th math-ph nlin nucl-ex nucl-th physics quant-ph".split()
)
"""Archives arXiv exposes as sub-sets of ``physics`` (``physics:hep-th``); the others are sets of their own."""
TOP_SETS = frozenset({"cs", "econ", "eess", "math", "physics", "q-bio", "q-fin", "stat"})
_SUBSET = re.compile(r"^[A-Za-z][A-Za-z.-]{0,30}$")

log = logging.getLogger(__name__)


class OaiError(SourceError):
    """An OAI-PMH ``<error>`` other than ``noRecordsMatch``: ``code`` (``badResumptionToken``, …) and message."""

    def __init__(self, code: str, message: str, where: str) -> None:
        super().__init__(f"{where}: OAI-PMH error {code}: {message or 'no message'}")
        self.code, self.message = code, message


@dataclass
class OaiPage:
    """One ``ListRecords`` answer: its records, how many were deleted, and the token of the next page (None at the
    end), with the ``cursor`` and ``completeListSize`` arXiv sends beside it."""

    records: list[Record] = field(default_factory=list)
    deleted: int = 0
    token: str | None = None
    cursor: int | None = None
    complete_size: int | None = None


def oai_options(config: Config) -> dict[str, Any]:
    """The client settings of a :class:`~dailypapers.config.Config`, as keyword arguments for :class:`OaiClient`."""
    c = config
    return {"base_url": c.oai_url, "delay": c.oai_delay, "retries": c.arxiv_retries, "timeout": c.http_timeout}


def check_set(spec: str) -> str:
    """``spec`` when it names an arXiv set (``cs``, ``physics:hep-th``, or a finer ``cs:cs:LG``); else
    :class:`SourceError` before any request."""
    head, *rest = spec.split(":")
    known = head in TOP_SETS and all(_SUBSET.match(part) for part in rest)
    if known and head == "physics" and rest:
        known = rest[0] in PHYSICS_ARCHIVES
    if known:
        return spec
    if spec in PHYSICS_ARCHIVES:
        raise SourceError(f"not an arXiv OAI-PMH set: {spec!r}; the physics archives are sets under physics:{spec}")
    sets = ", ".join(sorted(TOP_SETS | {f"physics:{a}" for a in PHYSICS_ARCHIVES}))
    raise SourceError(f"not an arXiv OAI-PMH set: {spec[:60]!r} (sets are {sets})")


def set_of_category(category: str) -> str:
    """The OAI-PMH set that holds ``category``: its archive (``cs.LG`` → ``cs``), under ``physics:`` for the
    physics archives (``hep-th`` → ``physics:hep-th``, ``astro-ph.GA`` → ``physics:astro-ph``)."""
    archive = category.split(".", 1)[0]
    if archive in PHYSICS_ARCHIVES:
        return f"physics:{archive}"
    if archive in TOP_SETS:
        return archive
    raise SourceError(f"no OAI-PMH set holds the category {category[:60]!r}; name the set (e.g. cs, math)")


def list_params(set_spec: str, metadata_prefix: str, from_: date, until: date) -> dict[str, str]:
    """The arguments of a harvest's first request (datestamps at arXiv's day granularity)."""
    if metadata_prefix not in FORMATS:
        raise SourceError(f"unknown OAI-PMH metadata format {metadata_prefix[:40]!r} (expected arXiv or arXivRaw)")
    if from_ > until:
        raise SourceError(f"the harvest starts after it ends: from {from_} is later than until {until}")
    return {
        "verb": "ListRecords",
        "metadataPrefix": metadata_prefix,
        "set": check_set(set_spec),
        "from": from_.isoformat(),
        "until": until.isoformat(),
    }


def resume_params(token: str) -> dict[str, str]:
    """The arguments of a resumption request: the verb and the token, nothing else (OAI-PMH 2.0 section 3.5)."""
    return {"verb": "ListRecords", "resumptionToken": token}


# -- parsing ------------------------------------------------------------------------------------------------------
def _day(el: ET.Element, tag: str) -> datetime | None:
    """An ``arXiv``-format date (``2007-03-30``) as midnight UTC."""
    raw = xml_text(el, tag)
    if raw is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
    except ValueError:
        raise InvalidRecord(f"{tag.split('}')[-1]} is not a date: {raw[:40]!r}") from None


def paper_from_arxiv(meta: ET.Element) -> Paper:
    """A paper from an ``<arXiv>`` metadata element; :class:`InvalidRecord` when it lacks id, title or abstract."""
    authors: list[str] = []
    affiliations: list[str | None] = []
    for author in meta.iterfind(f"{_A}authors/{_A}author"):
        name = normalize_space(" ".join(xml_text(author, f"{_A}{t}") or "" for t in ("forenames", "keyname", "suffix")))
        if name:
            authors.append(name)
            affs = [normalize_space(a.text) for a in author.findall(f"{_A}affiliation")]
            affiliations.append("; ".join(a for a in affs if a) or None)
    published = _day(meta, f"{_A}created")
    return make_paper(
        **_shared_fields(meta, _A),
        authors=authors,
        affiliations=affiliations if any(affiliations) else [],
        published=published,
        updated=_day(meta, f"{_A}updated") or published,
    )


_AND = re.compile(r"^\s*and\s+|\s+and\s+(?![^()]*\))", re.IGNORECASE)  # " and " outside parentheses
_PARENS = re.compile(r"\(([^()]*)\)")


def split_raw_authors(text: str | None) -> tuple[list[str], list[str | None]]:
    """Names and affiliations of an ``arXivRaw`` author string, ``A. One (MIT, Cambridge), B. Two, and C. Three``:
    names are separated by commas, semicolons or "and" outside parentheses; what is in parentheses is the
    affiliation."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text or "":
        depth = max(depth + (ch == "(") - (ch == ")"), 0)
        if depth == 0 and ch in ",;":
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    names: list[str] = []
    affiliations: list[str | None] = []
    for part in (p for piece in pieces for p in _AND.split(piece)):
        name = normalize_space(_PARENS.sub(" ", part))
        if name:
            names.append(name)
            affiliations.append("; ".join(normalize_space(a) for a in _PARENS.findall(part) if a.strip()) or None)
    return names, affiliations


def paper_from_raw(meta: ET.Element) -> Paper:
    """A paper from an ``<arXivRaw>`` metadata element, at its latest version."""
    history = [{"version": v.get("version", ""), "created": v.findtext(f"{_R}date")} for v in meta.iter(f"{_R}version")]
    published, updated, version = parse_versions(history)
    authors, affiliations = split_raw_authors(meta.findtext(f"{_R}authors"))
    return make_paper(
        **_shared_fields(meta, _R),
        version=version,
        authors=authors,
        affiliations=affiliations if any(affiliations) else [],
        published=published,
        updated=updated,
    )


def _shared_fields(meta: ET.Element, ns: str) -> dict[str, Any]:
    """The fields both formats hold in elements of the same names (in namespace ``ns``); the id is required."""
    arxiv_id = xml_text(meta, f"{ns}id")
    if not arxiv_id:
        raise InvalidRecord("missing id")
    return {
        "title": xml_text(meta, f"{ns}title"),
        "abstract": xml_text(meta, f"{ns}abstract"),
        "arxiv_id": arxiv_id,
        "source": SOURCE,
        "categories": split_categories(xml_text(meta, f"{ns}categories")),
        "comment": xml_text(meta, f"{ns}comments"),
        "journal_ref": xml_text(meta, f"{ns}journal-ref"),
        "doi": xml_text(meta, f"{ns}doi"),
    }


_READERS: dict[str, Callable[[ET.Element], Paper]] = {f"{_A}arXiv": paper_from_arxiv, f"{_R}arXivRaw": paper_from_raw}


def paper_from_record(record: ET.Element) -> Paper:
    """A paper from one ``<record>`` of either format; :class:`InvalidRecord` when it has no metadata we read."""
    metadata = record.find(f"{_O}metadata")
    meta = next(iter(metadata), None) if metadata is not None else None
    if meta is None:
        raise InvalidRecord("record without metadata")
    reader = _READERS.get(meta.tag)
    if reader is None:
        raise InvalidRecord(f"unsupported metadata format {meta.tag[:80]!r}")
    return reader(meta)


def _int(value: str | None) -> int | None:  # an attribute such as cursor="4000"; a hostile one is ignored
    # ASCII digits only: str.isdigit() also accepts "¹", which int() refuses (found by tests/fuzz/test_fuzz_xml.py)
    return int(value) if value and re.fullmatch(r"\s*[0-9]{1,18}\s*", value) else None


def _error(root: ET.Element, where: str) -> OaiPage | None:
    """An empty page for ``noRecordsMatch``; :class:`OaiError` for any other error; None when there is none."""
    errors = [(e.get("code") or "unknown", normalize_space(e.text)) for e in root.findall(f"{_O}error")]
    if not errors:
        return None
    for code, message in errors:
        if code != NO_RECORDS:
            raise OaiError(code, message, where)
    return OaiPage()


def parse_page(body: bytes, where: str) -> OaiPage:
    """One ``ListRecords`` response; raises :class:`SourceError` for hostile or malformed XML and OAI-PMH errors."""
    root = parse_untrusted_xml(body, where, expected="an OAI-PMH response", max_bytes=MAX_PAGE_BYTES)
    if root.tag != f"{_O}OAI-PMH":
        raise SourceError(f"{where}: not an OAI-PMH response (root element {root.tag[:80]!r})")
    empty = _error(root, where)
    if empty is not None:
        return empty
    listing = root.find(f"{_O}ListRecords")
    if listing is None:
        raise SourceError(f"{where}: OAI-PMH response without ListRecords")
    page = OaiPage()
    for number, record in enumerate(listing.iterfind(f"{_O}record"), 1):
        header = record.find(f"{_O}header")
        if header is not None and header.get("status") == "deleted":
            page.deleted += 1
            continue
        try:
            page.records.append(paper_from_record(record))
        except InvalidRecord as exc:
            page.records.append(Rejected(f"{where}, record {number}", str(exc)))
    token = listing.find(f"{_O}resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
        page.cursor, page.complete_size = _int(token.get("cursor")), _int(token.get("completeListSize"))
    return page


# -- the client -----------------------------------------------------------------------------------------------------
class OaiClient(PoliteClient):
    """One polite connection to an OAI-PMH server (:class:`PoliteClient`), reading ``ListRecords`` pages."""

    default_url, user_agent, max_bytes, log = DEFAULT_URL, USER_AGENT, MAX_PAGE_BYTES, log

    def list_records(self, params: Mapping[str, str], where: str) -> OaiPage:
        """Fetch and parse one page (``where`` names it in messages), retrying as the module docstring says."""

        def attempt(last: bool) -> OaiPage | Retry:
            got = self.get(params, where)
            if isinstance(got, Retry):
                return got
            resp, body = got
            if resp.status_code != 200:
                _raise_for(resp.status_code, body, where)
            return parse_page(body, where)

        return self.retrying(where, attempt)


def _raise_for(status: int, body: bytes, where: str) -> NoReturn:
    """A non-retryable HTTP status: the OAI-PMH error in the body when there is one, else the status."""
    try:
        parse_page(body, where)
    except OaiError:
        raise
    except SourceError:
        pass
    raise SourceError(f"{where}: HTTP {status} from the OAI-PMH server")
