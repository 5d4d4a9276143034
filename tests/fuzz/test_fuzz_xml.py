"""Fuzzing the XML sources (arXiv API Atom pages, announcement Atom/RSS feeds, OAI-PMH pages): documents of the
right shape with hostile text in every element and attribute, and raw bytes (cut, flipped, random). Every input
gives records or per-record rejections, or a :class:`SourceError` for a document refused as a whole."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from hypothesis import example, given
from hypothesis import strategies as st

from dailypapers.papers.sources.arxiv_api import ARXIV_NS, ATOM_NS, OPENSEARCH_NS, parse_feed
from dailypapers.papers.sources.arxiv_feed import parse_announcements
from dailypapers.papers.sources.oai import ARXIV_NS as OAI_ARXIV_NS
from dailypapers.papers.sources.oai import OAI_NS, RAW_NS, parse_page
from tests.fuzz.strategies import (
    FUZZ,
    arxiv_ids,
    check_records,
    likely,
    maybe_elements,
    raw_documents,
    wanted_elements,
    words,
    xml_texts,
)

ids = likely(arxiv_ids)
days = st.dates().map(str)
rfc = st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))


def _text(value: str) -> str:
    return escape(value)


@st.composite
def api_entry(draw: st.DrawFn) -> str:
    parts = [f"<id>http://arxiv.org/abs/{_text(draw(ids))}</id>"]
    parts.append(draw(wanted_elements(["title", "summary"])))
    parts.append(draw(wanted_elements(["published", "updated"], st.datetimes().map(lambda d: d.isoformat() + "Z"))))
    parts.append(draw(maybe_elements(["title", "published", "arxiv:comment", "arxiv:journal_ref", "arxiv:doi"])))
    for _ in range(draw(st.integers(0, 3))):
        aff = "".join(
            f"<arxiv:affiliation>{_text(a)}</arxiv:affiliation>" for a in draw(st.lists(xml_texts, max_size=2))
        )
        parts.append(f"<author><name>{_text(draw(likely(words)))}</name>{aff}</author>")
    for _ in range(draw(st.integers(0, 3))):
        rel, title, href = draw(st.sampled_from(["alternate", "related", "x"])), draw(xml_texts), draw(xml_texts)
        parts.append(f"<link rel={quoteattr(rel)} title={quoteattr(title)} href={quoteattr(href)}/>")
    for term in draw(st.lists(xml_texts, max_size=3)):
        parts.append(f"<category term={quoteattr(term)}/>")
    if draw(st.booleans()):
        parts.append(f"<arxiv:primary_category term={quoteattr(draw(xml_texts))}/>")
    return "<entry>" + "".join(parts) + "</entry>"


@st.composite
def api_page(draw: st.DrawFn) -> bytes:
    total = _text(draw(st.one_of(st.integers(0, 10**25).map(str), xml_texts)))
    entries = "".join(draw(st.lists(api_entry(), max_size=4)))
    return (f'<feed xmlns="{ATOM_NS}" xmlns:arxiv="{ARXIV_NS}" xmlns:opensearch="{OPENSEARCH_NS}">'
            f"<opensearch:totalResults>{total}</opensearch:totalResults>{entries}</feed>").encode()  # fmt: skip


@FUZZ
@given(api_page())
@example(
    f'<feed xmlns="{ATOM_NS}"><entry><id>http://arxiv.org/api/errors#x</id><title>Error</title></entry></feed>'.encode()
)
@example(  # as the OAI cursor below: "¹" passed str.isdigit() and int() raised ValueError
    f'<feed xmlns="{ATOM_NS}" xmlns:opensearch="{OPENSEARCH_NS}"><opensearch:totalResults>¹</opensearch:totalResults>'
    "</feed>".encode()
)
@example(  # found by this test: the link's href became the paper's abs link as it was (now only http(s) is kept)
    f'<feed xmlns="{ATOM_NS}"><entry><id>http://arxiv.org/abs/2401.00001</id><title>T</title><summary>A</summary>'
    '<link rel="alternate" href="javascript:alert(1)"/><link title="pdf" href="0"/></entry></feed>'.encode()
)
def test_arxiv_api_structured(body: bytes) -> None:
    check_records(lambda: parse_feed(body, 1)[1])


@FUZZ
@given(raw_documents(api_page()))
def test_arxiv_api_raw_bytes(body: bytes) -> None:
    check_records(lambda: parse_feed(body, 1)[1])


kinds = likely(st.sampled_from(["new", "cross", "replace", "replace-cross", "NEW", "weird"]))


@st.composite
def announcement_item(draw: st.DrawFn, rss: bool) -> str:
    arxiv_id, kind, abstract = draw(ids), draw(kinds), draw(likely(words))
    summary = _text(
        f"arXiv:{arxiv_id} Announce Type: {kind} \nAbstract: {abstract}" if draw(st.integers(0, 9)) else abstract
    )
    day = _text(draw(likely(st.sampled_from(["Mon, 02 Dec 2024 00:00:00 -0500", "2024-12-02T00:00:00-05:00"]))))
    guid = _text(draw(likely(st.just(f"oai:arXiv.org:{arxiv_id}"))))
    cats = draw(st.lists(xml_texts, max_size=3))
    extra = draw(wanted_elements(["title", "dc:creator"])) + draw(wanted_elements(["arxiv:announce_type"], kinds))
    extra += draw(wanted_elements(["link"], st.just(f"https://arxiv.org/abs/{arxiv_id}")))
    if rss:
        tags = "".join(f"<category>{_text(c)}</category>" for c in cats)
        body = f"<guid>{guid}</guid><description>{summary}</description><pubDate>{day}</pubDate>"
        return f"<item>{body}{tags}{extra}</item>"
    tags = "".join(f"<category term={quoteattr(c)}/>" for c in cats)
    return f"<entry><id>{guid}</id><summary>{summary}</summary><published>{day}</published>{tags}{extra}</entry>"


@st.composite
def announcement_feed(draw: st.DrawFn) -> bytes:
    rss = draw(st.booleans())
    items = "".join(draw(st.lists(announcement_item(rss), max_size=4)))
    ns = 'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom"'
    if rss:
        return f'<rss version="2.0" {ns}><channel><title>t</title>{items}</channel></rss>'.encode()
    return f'<feed xmlns="http://www.w3.org/2005/Atom" {ns}><title>t</title>{items}</feed>'.encode()


@FUZZ
@given(announcement_feed())
@example(  # found by this test: an RSS item without <link> got its guid ("oai:arXiv.org:…") as its abs link
    b'<rss version="2.0"><channel><item><guid>oai:arXiv.org:2412.01001v1</guid><title>T</title><description>'
    b"arXiv:2412.01001v1 Announce Type: new Abstract: A</description><pubDate>Mon, 02 Dec 2024 00:00:00 -0500"
    b"</pubDate></item></channel></rss>"
)
def test_announcements_structured(body: bytes) -> None:
    check_records(lambda: parse_announcements(body, "feed"))


@FUZZ
@given(raw_documents(announcement_feed()))
def test_announcements_raw_bytes(body: bytes) -> None:
    check_records(lambda: parse_announcements(body, "feed"))


@st.composite
def oai_record(draw: st.DrawFn) -> str:
    header = '<header status="deleted"/>' if draw(st.integers(0, 9)) == 0 else "<header/>"
    fields = draw(wanted_elements(["title", "abstract"])) + draw(
        maybe_elements(["title", "categories", "comments", "journal-ref", "doi"])
    )
    arxiv_id = f"<id>{_text(draw(ids))}</id>" if draw(st.integers(0, 5)) else ""
    if draw(st.booleans()):  # arXivRaw
        versions = "".join(
            f"<version version={quoteattr(v)}><date>{_text(d)}</date></version>"
            for v, d in draw(st.lists(st.tuples(likely(st.from_regex(r"\Av[1-9][0-9]?\Z")), likely(rfc)), max_size=3))
        )
        authors = f"<authors>{_text(draw(xml_texts))}</authors>"
        meta = f'<arXivRaw xmlns="{RAW_NS}">{arxiv_id}{fields}{versions}{authors}</arXivRaw>'
    else:
        authors = "".join(
            f"<author><keyname>{_text(k)}</keyname><forenames>{_text(f)}</forenames></author>"
            for k, f in draw(st.lists(st.tuples(likely(words), likely(words)), max_size=3))
        )
        dates = draw(wanted_elements(["created", "updated"], days))
        meta = f'<arXiv xmlns="{OAI_ARXIV_NS}">{arxiv_id}{fields}{dates}<authors>{authors}</authors></arXiv>'
    if draw(st.integers(0, 9)) == 0:
        meta = draw(st.sampled_from(["", "<other/>"]))
    return f"<record>{header}<metadata>{meta}</metadata></record>"


@st.composite
def oai_page(draw: st.DrawFn) -> bytes:
    records = "".join(draw(st.lists(oai_record(), max_size=4)))
    token = ""
    if draw(st.booleans()):
        cursor, size = draw(xml_texts), draw(st.one_of(st.integers(-5, 10**30).map(str), xml_texts))
        attributes = f"cursor={quoteattr(cursor)} completeListSize={quoteattr(size)}"
        token = f"<resumptionToken {attributes}>{_text(draw(xml_texts))}</resumptionToken>"
    error = ""
    if draw(st.integers(0, 9)) == 0:
        error = f"<error code={quoteattr(draw(st.sampled_from(['noRecordsMatch', 'badArgument', ''])))}>x</error>"
    return f'<OAI-PMH xmlns="{OAI_NS}">{error}<ListRecords>{records}{token}</ListRecords></OAI-PMH>'.encode()


@FUZZ
@given(oai_page())
@example(  # found by the long profile: cursor="¹" passed str.isdigit() and int() raised ValueError
    f'<OAI-PMH xmlns="{OAI_NS}"><ListRecords><resumptionToken cursor="¹" completeListSize="²">t</resumptionToken>'
    "</ListRecords></OAI-PMH>".encode()
)
def test_oai_structured(body: bytes) -> None:
    check_records(lambda: parse_page(body, "page").records)


@FUZZ
@given(raw_documents(oai_page()))
def test_oai_raw_bytes(body: bytes) -> None:
    check_records(lambda: parse_page(body, "page").records)
