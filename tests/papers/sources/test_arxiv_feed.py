"""The arXiv announcement-feed source, read over HTTP from a real local server that serves hand-written feeds in
arXiv's formats: an Atom Monday, an RSS Tuesday and an empty weekend (``skipDays``), then hostile and broken ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from dailypapers.papers.sources import Rejected, SourceError
from dailypapers.papers.sources.arxiv_feed import MAX_FEED_BYTES, Announcement, feed_url, read_arxiv_feed
from tests.fakes_arxiv import LocalServer, Response, serve
from tests.papers.sources.conftest import fixture_bytes

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
CATS = ["cs.LG", "stat.ML"]
MONDAY, TUESDAY = date(2024, 12, 2), date(2024, 12, 3)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom"><channel><title>cs.LG</title>
<item><title>&lol9;</title><link>https://arxiv.org/abs/2412.09001</link>
<description>arXiv:2412.09001v1 Announce Type: new
Abstract: &lol9;</description><guid>oai:arXiv.org:2412.09001v1</guid>
<pubDate>Mon, 02 Dec 2024 00:00:00 -0500</pubDate><arxiv:announce_type>new</arxiv:announce_type></item>
</channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom"><channel><title>cs.LG</title>
<item><title>Leak &secret;</title><link>https://arxiv.org/abs/2412.09002</link>
<description>arXiv:2412.09002v1 Announce Type: new
Abstract: &secret;</description><guid>oai:arXiv.org:2412.09002v1</guid>
<pubDate>Mon, 02 Dec 2024 00:00:00 -0500</pubDate><arxiv:announce_type>new</arxiv:announce_type></item>
</channel></rss>"""


class FeedServer(LocalServer):
    """arXiv's feed host: ``/atom/<cats>`` and ``/rss/<cats>`` answer ``today`` (a response), anything else 404."""

    def __init__(self) -> None:
        super().__init__(handler=self.respond)
        self.today: Response = (200, RSS, fixture_bytes("arxiv_feed_weekend.xml"))

    def respond(self, path: str, params: dict[str, str]) -> Response:
        if path.startswith(("/atom/", "/rss/")):
            return self.today
        return 404, {}, b"not found"


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with serve(FeedServer()) as server:
        assert isinstance(server, FeedServer)
        yield server


def read(server: FeedServer, body: bytes, fmt: str = "atom", status: int = 200) -> list[Announcement | Rejected]:
    server.today = (status, RSS, body)
    return list(read_arxiv_feed(CATS, base_url=server.url, fmt=fmt, timeout=5))


def by_id(records: list[Announcement | Rejected]) -> dict[str, Announcement]:
    return {r.paper.id: r for r in records if isinstance(r, Announcement)}


def test_atom_monday_new_cross_and_replace_items(feeds: FeedServer) -> None:
    records = read(feeds, fixture_bytes("arxiv_feed_day1.xml"))
    assert [s.path for s in feeds.seen] == ["/atom/cs.LG+stat.ML"]
    items = by_id(records)
    assert {i: a.kind for i, a in items.items()} == {
        "2412.01001": "new",
        "2412.01002": "new",
        "2411.09999": "cross",
        "2410.05555": "replace",
    }
    assert all(a.day == MONDAY for a in items.values())
    assert [a.listed for a in items.values()] == [True, True, True, False]
    experts = items["2412.01001"].paper
    assert experts.title == "Sparse Mixtures of Tiny Experts"
    assert experts.abstract.startswith("We route tokens to tiny experts and <b>win</b>")  # as written; pages escape
    assert "Announce Type" not in experts.abstract and "arXiv:" not in experts.abstract
    assert experts.authors == ["Ada One", "Bert Two", "Chen Three"]
    assert experts.categories == ["cs.LG", "stat.ML"] and experts.primary_category == "cs.LG"
    assert experts.version == 1 and experts.source == "arxiv-feed"
    assert experts.abs_url == "https://arxiv.org/abs/2412.01001"
    assert experts.code_url == "https://github.com/example/tiny-experts"
    assert items["2410.05555"].paper.version == 3
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert [(r.position, r.reason) for r in rejected] == [("item 5", "missing title")]


def test_rss_tuesday_versions_from_the_guid_and_unknown_types_rejected(feeds: FeedServer) -> None:
    records = read(feeds, fixture_bytes("arxiv_feed_day2.xml"), fmt="rss")
    assert [s.path for s in feeds.seen] == ["/rss/cs.LG+stat.ML"]
    items = by_id(records)
    assert {i: (a.kind, a.paper.version) for i, a in items.items()} == {
        "2412.02001": ("new", 1),
        "2412.01001": ("replace", 2),
        "2411.09999": ("replace-cross", 2),
        "2106.09685": ("replace", 3),
    }
    assert all(a.day == TUESDAY for a in items.values())  # 00:00 -05:00 is Tuesday, as arXiv means it
    assert items["2106.09685"].paper.authors == ["Edward J. Hu", "Yelong Shen", "Phillip Wallis"]
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert len(rejected) == 1 and rejected[0].position == "item 5" and "withdrawn" in rejected[0].reason


def test_an_empty_weekend_feed_is_normal(feeds: FeedServer) -> None:
    assert read(feeds, fixture_bytes("arxiv_feed_weekend.xml"), fmt="rss") == []
    assert len(feeds.seen) == 1


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_is_refused_with_a_clear_error(feeds: FeedServer, payload: bytes) -> None:
    with pytest.raises(SourceError, match="refused unsafe XML") as caught:
        read(feeds, payload, fmt="rss")
    assert "root:" not in str(caught.value)  # nothing of the local file is read, let alone reported


def test_broken_and_wrong_documents_are_source_errors(feeds: FeedServer) -> None:
    with pytest.raises(SourceError, match="not well-formed XML"):
        read(feeds, fixture_bytes("arxiv_feed_day1.xml")[:-40])
    with pytest.raises(SourceError, match="not an RSS or Atom feed"):
        read(feeds, b"<html><body><p>Service unavailable</p></body></html>")
    with pytest.raises(SourceError, match="HTTP 503"):
        read(feeds, b"busy", status=503)
    with pytest.raises(SourceError, match="larger than"):
        read(feeds, b"<rss>" + b" " * MAX_FEED_BYTES + b"</rss>")


def test_categories_are_checked_before_any_request(feeds: FeedServer) -> None:
    assert feed_url(["cs.LG", "stat.ML", "cs.LG"], base_url="https://rss.arxiv.org/") == (
        "https://rss.arxiv.org/atom/cs.LG+stat.ML"
    )
    for bad in (["cs.LG/../../admin"], ["cs LG"], [], ["x" * 50]):
        with pytest.raises(SourceError):
            list(read_arxiv_feed(bad, base_url=feeds.url))
    with pytest.raises(SourceError, match="unknown feed format"):
        list(read_arxiv_feed(CATS, base_url=feeds.url, fmt="json"))
    assert feeds.seen == []
