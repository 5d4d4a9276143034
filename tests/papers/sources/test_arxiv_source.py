"""The arXiv API client against a real local HTTP server: paging, parsing, spacing, retries and arXiv's errors."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import httpx
import pytest

from dailypapers.config import Config
from dailypapers.papers.models import Paper
from dailypapers.papers.sources import Rejected, SourceError, arxiv_id_lookup, arxiv_options, read_arxiv
from dailypapers.papers.sources.arxiv_api import parse_feed

from .conftest import ATOM, FakeArxiv, fixture_bytes


def fetch(server: FakeArxiv, **kw: object) -> list[Paper | Rejected]:
    opts: dict[str, object] = {"max_results": 10, "page_size": 2, "delay": 0.0, "retries": 3, "timeout": 5.0}
    opts.update(kw)
    return list(read_arxiv("cat:cs.LG", base_url=server.url, **opts))  # type: ignore[arg-type]


def test_pages_through_all_results_with_start(arxiv_server: FakeArxiv) -> None:
    records = fetch(arxiv_server)
    assert [s.params["start"] for s in arxiv_server.seen] == ["0", "2", "4"]  # stops at totalResults = 5
    for seen in arxiv_server.seen:
        assert seen.path == "/api/query"
        assert seen.params["search_query"] == "cat:cs.LG"
        assert seen.params["max_results"] == "2"
        assert (seen.params["sortBy"], seen.params["sortOrder"]) == ("submittedDate", "descending")
    assert len({s.client_port for s in arxiv_server.seen}) == 1  # one kept-alive connection
    papers = [r for r in records if isinstance(r, Paper)]
    assert [p.id for p in papers] == ["2106.09685", "1706.03762", "1412.6980", "hep-th/9711200"]
    assert records[3] == Rejected("page 2, entry 2", "missing title")


def test_entry_fields(arxiv_server: FakeArxiv) -> None:
    lora, attention, adam, _, maldacena = fetch(arxiv_server)
    assert isinstance(lora, Paper) and isinstance(maldacena, Paper) and isinstance(adam, Paper)
    assert lora.source == "arxiv" and lora.version == 2
    assert lora.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert lora.abstract.startswith("An important paradigm of natural language processing consists of large-scale pre")
    assert "\n" not in lora.abstract and "  " not in lora.abstract
    assert lora.authors == ["Edward J. Hu", "Yelong Shen", "Phillip Wallis", "Zeyuan Allen-Zhu"]
    assert lora.affiliations == ["Microsoft Corporation", None, None, None]
    assert lora.primary_category == "cs.CL" and lora.categories == ["cs.CL", "cs.AI", "cs.LG"]
    assert lora.published == datetime(2021, 6, 17, 17, 37, 18, tzinfo=UTC)
    assert lora.updated == datetime(2021, 10, 16, 18, 40, 34, tzinfo=UTC)
    assert lora.comment == "Draft V2 includes better baselines, experiments on GLUE, and more on adapter latency"
    assert lora.abs_url == "http://arxiv.org/abs/2106.09685v2"
    assert lora.pdf_url == "http://arxiv.org/pdf/2106.09685v2"
    assert lora.code_url == "https://github.com/microsoft/LoRA"
    assert isinstance(attention, Paper) and attention.affiliations == [] and attention.version == 7
    assert adam.authors == ["Diederik P. Kingma", "Jimmy Ba"] and adam.journal_ref is None
    assert maldacena.id == "hep-th/9711200" and maldacena.version == 3
    assert maldacena.journal_ref == "Adv.Theor.Math.Phys.2:231-252,1998"
    assert maldacena.doi == "10.1023/A:1026654312961"
    assert maldacena.pdf_url == "https://arxiv.org/pdf/hep-th/9711200v3"  # not the DOI link, also rel=related
    assert maldacena.affiliations == ["Harvard University"]
    assert "$N$" in maldacena.abstract  # LaTeX kept


def test_max_results_bounds_the_last_request(arxiv_server: FakeArxiv) -> None:
    records = fetch(arxiv_server, max_results=3)
    assert len(records) == 3
    assert [(s.params["start"], s.params["max_results"]) for s in arxiv_server.seen] == [("0", "2"), ("2", "1")]
    assert list(read_arxiv("cat:cs.LG", max_results=0, base_url=arxiv_server.url)) == []
    assert len(arxiv_server.seen) == 2


def test_requests_are_spaced_by_delay_measured_by_the_server(arxiv_server: FakeArxiv) -> None:
    fetch(arxiv_server, delay=0.2)
    gaps = arxiv_server.gaps()
    assert len(gaps) == 2
    # The client spaces request *starts*; arrival times also carry scheduling jitter (larger on a busy machine).
    assert min(gaps) >= 0.15, gaps
    assert max(gaps) < 1.5, gaps


def test_waits_go_through_the_injected_sleep() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def answer(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["start"])
        name = FakeArxiv.pages.get(start, "arxiv_empty.xml")
        return httpx.Response(200, headers=ATOM, content=fixture_bytes(name))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    records = list(
        read_arxiv(
            "cat:cs.LG",
            max_results=10,
            page_size=2,
            base_url="http://arxiv.test/api/query",
            delay=3.0,
            retries=1,
            timeout=5.0,
            client=client,
            sleep=sleep,
            clock=lambda: now[0],
        )
    )
    assert len(records) == 5
    assert slept == [3.0, 3.0]  # none before the first request, then one delay before each next one
    assert not client.is_closed  # a client passed in is left open for its owner
    client.close()


def test_503_with_retry_after_is_honoured(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [None, (503, {"Retry-After": "0.3"}, b"Service Unavailable")]
    records = fetch(arxiv_server)
    assert len(records) == 5
    assert [s.params["start"] for s in arxiv_server.seen] == ["0", "2", "2", "4"]
    assert arxiv_server.gaps()[1] >= 0.25  # the retry waited Retry-After (less arrival jitter)


def test_429_is_retried(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [(429, {"Retry-After": "0"}, b"Too Many Requests")]
    assert len(fetch(arxiv_server)) == 5
    assert [s.params["start"] for s in arxiv_server.seen] == ["0", "0", "2", "4"]


def test_rate_exceeded_body_is_retried_with_backoff(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [(200, {}, b"Rate exceeded.")]
    slept: list[float] = []
    records = fetch(arxiv_server, delay=0.01, sleep=slept.append, clock=lambda: 0.0)  # time stands still
    assert len(records) == 5
    assert [s.params["start"] for s in arxiv_server.seen] == ["0", "0", "2", "4"]
    assert slept == [0.02, 0.01, 0.01]  # back-off delay * 2 (no Retry-After), then the normal spacing


def test_gives_up_after_retries(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [(503, {"Retry-After": "0"}, b"busy")] * 10
    with pytest.raises(SourceError, match=r"page 1: HTTP 503.*after 3 retries"):
        fetch(arxiv_server, retries=3)
    assert len(arxiv_server.seen) == 4  # the first try and 3 retries


def test_error_entry_raises_with_arxivs_message(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [(200, ATOM, fixture_bytes("arxiv_error.xml"))]
    with pytest.raises(SourceError, match=r"incorrect id format for 1234\.12345"):
        fetch(arxiv_server)
    assert len(arxiv_server.seen) == 1  # not retried


def test_error_entry_with_http_400(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [(400, ATOM, fixture_bytes("arxiv_error.xml"))]
    with pytest.raises(SourceError, match="arXiv API error: incorrect id format"):
        fetch(arxiv_server)


def test_other_http_errors_are_not_retried(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [(404, {}, b"<html>Not Found</html>")]
    with pytest.raises(SourceError, match="page 1: HTTP 404"):
        fetch(arxiv_server)
    assert len(arxiv_server.seen) == 1


def test_empty_page_before_total_is_retried(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [None, (200, ATOM, fixture_bytes("arxiv_empty.xml"))]
    records = fetch(arxiv_server)
    assert len(records) == 5
    assert [s.params["start"] for s in arxiv_server.seen] == ["0", "2", "2", "4"]


def test_page_that_stays_empty_stops_with_a_warning(arxiv_server: FakeArxiv, caplog: pytest.LogCaptureFixture) -> None:
    arxiv_server.script = [None] + [(200, ATOM, fixture_bytes("arxiv_empty.xml"))] * 3
    with caplog.at_level(logging.WARNING, logger="dailypapers.papers.sources.arxiv_api"):
        records = fetch(arxiv_server, retries=2)
    assert [r.id for r in records if isinstance(r, Paper)] == ["2106.09685", "1706.03762"]
    assert [s.params["start"] for s in arxiv_server.seen] == ["0", "2", "2", "2"]
    assert "page 2 stayed empty after 2 retries" in caplog.text


def test_malformed_xml_names_the_page(arxiv_server: FakeArxiv) -> None:
    arxiv_server.script = [None, (200, ATOM, fixture_bytes("arxiv_page2.xml")[:500])]
    with pytest.raises(SourceError, match="page 2: not well-formed XML"):
        fetch(arxiv_server)


def test_unreachable_server_raises_after_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(SourceError, match=r"ConnectError.*after 2 retries"):
        list(
            read_arxiv(
                "cat:cs.LG",
                max_results=5,
                base_url=f"http://127.0.0.1:{port}/api/query",
                delay=0.0,
                retries=2,
                timeout=2.0,
            )
        )


def test_id_lookup_uses_id_list(arxiv_server: FakeArxiv) -> None:
    ids = ["arXiv:2106.09685", "https://arxiv.org/abs/1706.03762v7", "2106.09685"]
    records = list(arxiv_id_lookup(ids, base_url=arxiv_server.url, delay=0.0, retries=0, timeout=5.0))
    assert [r.id for r in records if isinstance(r, Paper)] == ["2106.09685", "1706.03762"]
    assert len(arxiv_server.seen) == 1
    assert arxiv_server.seen[0].params["id_list"] == "2106.09685,1706.03762v7"
    assert arxiv_server.seen[0].params["max_results"] == "2"
    with pytest.raises(SourceError, match="not an arXiv id"):
        list(arxiv_id_lookup(["1234"], base_url=arxiv_server.url))
    assert len(arxiv_server.seen) == 1


def test_options_come_from_config() -> None:
    cfg = Config(arxiv_api_url="http://127.0.0.1:9/api/query", arxiv_delay=0.5, arxiv_retries=2, http_timeout=7.0)
    assert arxiv_options(cfg) == {
        "base_url": "http://127.0.0.1:9/api/query",
        "delay": 0.5,
        "retries": 2,
        "timeout": 7.0,
    }


def test_parse_feed_without_network() -> None:
    total, records = parse_feed(fixture_bytes("arxiv_page3.xml"), page=3)
    assert total == 5 and len(records) == 1
    with pytest.raises(SourceError, match="page 7: not an Atom feed"):
        parse_feed(b"<html><body>maintenance</body></html>", page=7)


@pytest.mark.parametrize(
    "declaration",
    [
        '<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',  # billion laughs
        '<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>',  # an external entity (XXE)
    ],
    ids=["entity-expansion", "external-entity"],
)
def test_hostile_xml_is_refused(declaration: str) -> None:
    body = f'<?xml version="1.0"?>{declaration}<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>'
    with pytest.raises(SourceError, match="refused hostile XML: arXiv API page 4 has a"):
        parse_feed(body.encode(), page=4)
