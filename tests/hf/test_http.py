"""The wire format of the Hugging Face compatible API, checked over HTTP: dates, paging links, errors, schema."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.demo import DEMO_DAYS
from tests.hf.papers import HfDemo

HF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
BEARER = {"Authorization": "Bearer hf_" + "y" * 34}


@pytest.fixture
def http(hf_demo: HfDemo) -> httpx.Client:
    return httpx.Client(base_url=hf_demo.base_url, timeout=60)


def test_item_shape_and_dates(http: httpx.Client) -> None:
    r = http.get("/api/daily_papers", params={"date": DEMO_DAYS[-1].isoformat(), "limit": 100})
    assert r.status_code == 200
    items = r.json()
    lora = next(item for item in items if item["paper"]["id"] == "2106.09685")
    assert lora["paper"]["publishedAt"] == "2021-06-17T17:37:18.000Z"
    assert lora["publishedAt"] == lora["paper"]["submittedOnDailyAt"] == "2026-11-20T00:00:00.000Z"
    assert lora["paper"]["authors"][0] == {"name": "Edward J. Hu", "hidden": False}
    assert lora["title"] == lora["paper"]["title"]
    assert lora["upvotes"] == lora["paper"]["upvotes"] == 42
    assert lora["githubRepo"] == "https://github.com/microsoft/LoRA"
    assert lora["numComments"] == 0 and lora["paper"]["discussionId"] == "2106.09685"
    assert lora["submittedBy"] == lora["paper"]["submittedOnDailyBy"]
    user = lora["submittedBy"]
    assert (user["user"], user["fullname"]) == ("dailypapers", "dailypapers importer")
    assert http.get(user["avatarUrl"]).status_code == 200
    for item in items:
        for value in (item["publishedAt"], item["paper"]["publishedAt"], item["paper"]["submittedOnDailyAt"]):
            assert HF_DATE.match(value), value


def test_flat_paper_object(http: httpx.Client) -> None:
    r = http.get("/api/papers/2106.09685v1", headers=BEARER)
    assert r.status_code == 200
    paper = r.json()
    assert paper["id"] == "2106.09685" and "paper" not in paper
    assert paper["publishedAt"] == "2021-06-17T17:37:18.000Z"
    assert paper["submittedOnDailyAt"] == "2026-11-20T00:00:00.000Z"
    assert paper["updatedAt"] == "2021-10-16T18:40:34.000Z"
    assert paper["addedAt"] == "2026-11-20"
    assert paper["pdfUrl"] == "https://arxiv.org/pdf/2106.09685"
    assert paper["categories"] == ["cs.CL", "cs.AI", "cs.LG"]


def test_link_header_pages_through(http: httpx.Client, hf_demo: HfDemo) -> None:
    url: str | None = "/api/daily_papers?week=2026-W47&limit=40&sort=trending"
    seen: list[str] = []
    while url:
        r = http.get(url, headers=BEARER)
        assert r.status_code == 200
        seen += [item["paper"]["id"] for item in r.json()]
        link = r.headers.get("Link")
        if link is None:
            break
        m = re.fullmatch(r'<(http://[^>]+)>; rel="next"', link)
        assert m, link
        url = m.group(1)
        assert "week=2026-W47" in url and "sort=trending" in url and "limit=40" in url
    assert len(seen) == len(set(seen)) == hf_demo.library.papers.count()
    last = http.get("/api/daily_papers", params={"date": DEMO_DAYS[0].isoformat(), "limit": 100, "p": 5})
    assert last.json() == [] and "Link" not in last.headers


@pytest.mark.parametrize(
    ("path", "params", "status", "name"),
    [
        ("/api/daily_papers", {"date": "2026-02-30"}, 400, "date"),
        ("/api/daily_papers", {"week": "2026-W00"}, 400, "week"),
        ("/api/daily_papers", {"month": "2026-13"}, 400, "month"),
        ("/api/daily_papers", {"p": "two"}, 400, "p"),
        ("/api/daily_papers", {"limit": "1000"}, 400, "limit"),
        ("/api/daily_papers", {"sort": "hot"}, 400, "sort"),
        ("/api/papers/search", {"q": "q" * 10001}, 400, "q"),
        ("/api/papers/search", {"limit": "121"}, 400, "limit"),
        ("/api/papers/2401.99999", {}, 404, "2401.99999"),
        ("/papers/2401.99999.md", {}, 404, "2401.99999"),
    ],
)
def test_errors_have_one_shape(http: httpx.Client, path: str, params: dict[str, str], status: int, name: str) -> None:
    r = http.get(path, params=params, headers=BEARER)
    assert r.status_code == status
    body = r.json()
    assert body["ok"] is False and body["status"] == status
    assert name in body["error"]
    assert r.headers["X-Error-Message"] == body["error"]


def test_search_route_is_not_a_paper_id(http: httpx.Client) -> None:
    r = http.get("/api/papers/search", params={"q": "2106.09685", "limit": 1})
    assert r.status_code == 200 and r.json()[0]["paper"]["id"] == "2106.09685"


def test_markdown_and_html_pages_coexist(http: httpx.Client) -> None:
    md = http.get("/papers/hep-th/9711200.md", headers=BEARER)
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# The Large N Limit of Superconformal Field Theories and Supergravity\n")
    html = http.get("/papers/2106.09685")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")


def test_openapi_documents_the_hf_endpoints(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/papers/search", "/api/daily_papers", "/api/papers/{paper_id}", "/papers/{paper_id}.md"):
        responses = paths[path]["get"]["responses"]
        assert "422" not in responses, path
    daily = paths["/api/daily_papers"]["get"]
    assert {p["name"] for p in daily["parameters"]} == {"p", "limit", "sort", "date", "week", "month", "submitter"}
    assert "Link" in daily["responses"]["200"]["headers"]
    item = spec["components"]["schemas"]["HfDailyItem"]
    assert {"paper", "publishedAt", "title", "upvotes", "submittedBy", "numComments"} <= set(item["required"])
