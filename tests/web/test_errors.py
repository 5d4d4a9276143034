"""Errors: a bad parameter is a 400 with a sentence, unknown things are 404s, failures are 500/503 pages without
tracebacks; one JSON shape under /api/; security headers on every response."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.errors import BadInput
from dailypapers.library import Library
from dailypapers.papers.store import StoreError
from dailypapers.web.app import create_app
from dailypapers.web.params import MONTH_FORM, WEEK_FORM
from tests.demo import running_server
from tests.web.conftest import assert_error_json
from tests.web.small_library import LORA, token_of

PAGE_KINDS = {"days": "date", "weeks": "week", "months": "month"}


def test_bad_date_is_400_html(http: httpx.Client) -> None:
    r = http.get("/papers/date/2026-13-45")
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "&#39;day&#39; must be a date (YYYY-MM-DD)." in r.text and "Traceback" not in r.text


def test_bad_day_is_400_json_with_header(http: httpx.Client) -> None:
    body = assert_error_json(http.get("/api/days/2026-02-30"), 400)
    assert body["error"] == "'day' must be a date (YYYY-MM-DD)."


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/days/yesterday", "'day' must be a date (YYYY-MM-DD)."),
        ("/api/days/0", "'day' must be a date (YYYY-MM-DD)."),  # pydantic alone would read 1970-01-01
        ("/api/days/2026-11-20T00:00:00", "'day' must be a date (YYYY-MM-DD)."),
        ("/api/weeks/2026-W54", f"'week' must be {WEEK_FORM}."),
        ("/api/weeks/2026-47", f"'week' must be {WEEK_FORM}."),
        ("/api/months/2026-13", f"'month' must be {MONTH_FORM}."),
        ("/api/weeks/9999-W52", f"'week' must be {WEEK_FORM}."),
        ("/api/months/9999-12", f"'month' must be {MONTH_FORM}."),
        ("/api/days/2026-11-18?p=0", "'p' must be a positive integer."),
        ("/api/days/2026-11-18?p=two", "'p' must be a positive integer."),
        ("/api/days/2026-11-18?p=99999999999999999999999", "'p' must be at most 10000."),
        ("/api/days/2026-11-18?sort=best", "'sort' must be one of 'added', 'upvotes' or 'trending'."),
        ("/api/search?q=x&mode=fuzzy", "'mode' must be one of 'hybrid', 'keyword' or 'semantic'."),
        ("/api/search?q=x&since=last+week", "'since' must be a date (YYYY-MM-DD)."),
        ("/api/search?q=x&until=", "'until' must be a date (YYYY-MM-DD)."),  # the API has no "empty: no limit"
        ("/api/search?q=x&since=2026-02-01&until=2026-01-01", "'since' must not be later than 'until'."),
        ("/api/search?q=" + "a" * 10001, "'q' must be at most 10000 characters."),
        ("/api/similar/dp-000000000000?k=0", "'k' must be a positive integer."),
    ],
)
def test_bad_parameters_are_400_sentences(client: TestClient, url: str, message: str) -> None:
    body = assert_error_json(client.get(url), 400)
    assert body["error"] == message


def test_week_53_of_a_short_year_is_404(client: TestClient) -> None:
    """Schema-valid (the pattern allows W53) but no such week: a 404, not a 400."""
    assert_error_json(client.get("/api/weeks/2021-W53"), 404, "There is no week 53 in 2021")
    assert client.get("/papers/week/2021-W53").status_code == 404
    assert client.get("/api/weeks/2020-W53").json()["key"] == "2020-W53"
    assert client.get("/api/daily_papers", params={"week": "2021-W53"}).json() == []


@pytest.mark.parametrize(
    ("url", "prev", "next"),
    [
        ("/api/days/0001-01-01", None, "2026-11-18"),
        ("/api/days/9999-12-31", "2026-11-20", None),
        ("/api/weeks/1000-W01", None, "1000-W02"),
        ("/api/weeks/2999-W52", "2999-W51", None),  # 3000-W01 has no page
        ("/api/months/1000-01", None, "1000-02"),
        ("/api/months/2999-12", "2999-11", None),
    ],
)
def test_the_ends_of_the_calendar_omit_the_missing_neighbour(
    client: TestClient, url: str, prev: str | None, next: str | None
) -> None:
    data = client.get(url).json()
    assert (data["prev"], data["next"], data["total"]) == (prev, next, 0)
    _, _, kind, key = url.split("/")
    page = client.get(f"/papers/{PAGE_KINDS[kind]}/{key}")  # the HTML twin renders too
    assert page.status_code == 200, page.url


def test_bad_parameters_on_pages_are_400_html(client: TestClient) -> None:
    for url in ("/?p=0", "/search?q=x&p=-1", "/search?q=x&mode=fuzzy", "/papers/week/2026-W99", "/papers/month/13"):
        r = client.get(url)
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), url
        assert '<p class="message">' in r.text and "X-Error-Message" not in r.headers


def test_unknown_paths_are_404(client: TestClient) -> None:
    assert_error_json(client.get("/api/nothing-here"), 404, "There is no page at /api/nothing-here")
    page = client.get("/nothing-here")
    assert page.status_code == 404 and "There is no page at /nothing-here." in page.text


def test_security_headers(client: TestClient) -> None:
    for url in ("/", "/search?q=x", "/api/search?q=x", "/papers/date/2026-13-45", "/api/days/x", "/static/style.css"):
        headers = client.get(url).headers
        assert headers["x-content-type-options"] == "nosniff", url
        assert headers["content-security-policy"].startswith("default-src 'self'"), url
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["referrer-policy"] == "same-origin", url


class _Broken:
    """A library whose search fails the way a bug, a database outage or a user's mistake would."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self.failure: Exception = RuntimeError("secret internal detail")

        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.failure

        lib.search.query = fail  # type: ignore[method-assign]


@pytest.fixture
def broken(tmp_path: Path) -> Any:
    lib = Library(Config(password_hash="cheapest", data_dir=tmp_path))
    lib.init()
    yield _Broken(lib)
    lib.close()


def test_unexpected_error_is_500_without_traceback(broken: _Broken, caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(create_app(broken.lib), raise_server_exceptions=False)
    page = client.get("/search?q=anything")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in page.text
    assert "secret internal detail" not in page.text and "Traceback" not in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    body = assert_error_json(client.get("/api/search?q=anything"), 500)
    assert "secret" not in body["error"]
    assert "secret internal detail" in caplog.text  # logged for the operator


def test_store_error_is_503(broken: _Broken) -> None:
    broken.failure = StoreError("cannot connect to PostgreSQL at db.internal:5432")
    client = TestClient(create_app(broken.lib), raise_server_exceptions=False)
    body = assert_error_json(client.get("/api/search?q=anything"), 503)
    assert "db.internal" not in body["error"]


def test_a_users_mistake_is_400_but_a_value_error_is_a_bug(broken: _Broken) -> None:
    broken.failure = BadInput("'q' must be at most 250 characters")
    client = TestClient(create_app(broken.lib), raise_server_exceptions=False)
    body = assert_error_json(client.get("/api/search?q=anything"), 400)
    assert body["error"] == "'q' must be at most 250 characters."
    broken.failure = ValueError("invalid literal for int() with base 10: 'x'")  # a bug deep inside, not the user's
    body = assert_error_json(client.get("/api/search?q=anything"), 500)
    assert "invalid literal" not in body["error"] and body["request_id"] in body["error"]


# A NUL character anywhere a request carries text (issue 21 item 18): PostgreSQL text cannot hold one, and psycopg's
# DataError was an unhandled 500 (anonymous requests included); SQLite answered 200 or 404. Both answer 400 now.
NUL_GETS = [
    "/papers/%00",
    "/papers/2106.09685%00",
    "/papers/%00.bib",
    "/api/similar/%00",
    "/api/papers/%00",
    "/papers/%00.md",
    "/authors/ada%00",
    "/api/authors/ada%00",
    "/feeds/authors/ada%00.atom",
    "/search?q=a%00b",
    "/search?q=x&author=a%00",
    "/search?q=x&category=cs%00",
    "/api/search?q=%00",
    "/api/search?q=x&author=a%00",
    "/api/search?q=x&category=cs.LG%00",
    "/feeds/search.atom?q=x%00",
    "/api/daily_papers?submitter=a%00",
    "/api/papers/search?q=%00",
]


def _refused(response: Any, url: str) -> None:
    assert response.status_code == 400, (url, response.status_code, response.text[:300])
    if response.headers["content-type"].startswith("application/json"):
        assert_error_json(response, 400, "NUL character")
    else:
        assert "NUL character" in response.text and "Traceback" not in response.text, url


def test_a_nul_character_is_a_400_on_both_backends(small: Library) -> None:
    with TestClient(create_app(small), raise_server_exceptions=False) as client:
        for url in NUL_GETS:
            _refused(client.get(url), url)
        assert_error_json(client.get("/api/papers/%00"), 400, "NUL character")
        token = token_of(client, "/login")
        login = client.post("/login", data={"login": "a\x00", "password": "x", "csrf_token": token})
        _refused(login, "POST /login")
        raw = b"login=a%00&password=x&csrf_token=" + token.encode()
        form = {"content-type": "application/x-www-form-urlencoded"}
        _refused(client.post("/login", content=raw, headers=form), "POST /login, raw")
        headers = {"X-CSRF-Token": client.get("/api/csrf").json()["csrf_token"]}
        _refused(client.post("/api/search", json={"q": "x", "author": "a\x00"}, headers=headers), "POST /api/search")
        _refused(client.post("/search", data={"q": "a\x00", "csrf_token": token}), "POST /search")
        # Text that only looks like a NUL is not one: a JSON "\\u0000" is a backslash and "u0000"; "%2500" is "%00".
        literal = client.post("/api/search", json={"q": "a\\u0000"}, headers=headers)
        assert literal.status_code == 200 and literal.json()["query"] == "a\\u0000"
        assert client.get("/api/search", params={"q": "%00"}).status_code == 200
        assert client.get(f"/papers/{LORA}").status_code == 200


def test_a_nul_character_is_a_400_over_http(small: Library) -> None:
    """The same through a real server (uvicorn decodes the path itself)."""
    with running_server(small.config) as base, httpx.Client(base_url=base, timeout=60) as http:
        for url in ("/papers/%00", "/api/papers/%00", "/api/search?q=x&author=a%00", "/api/days/2026-11-20?x=%00"):
            _refused(http.get(url), url)
        token = token_of(http, "/login")
        _refused(http.post("/login", data={"login": "a\x00", "password": "x", "csrf_token": token}), "POST /login")
