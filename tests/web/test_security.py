"""The security layer, found by walking the app: every unsafe route refuses a missing CSRF token and a foreign
origin; bodies over the limit are refused before they are read; a bug is a 500 with a request id, never a 400."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from dailypapers.web.security.csrf import CSRF_EXEMPT, SAFE_METHODS

PASSWORD = "correct horse battery"
_PARAM = re.compile(r"\{[^}]+\}")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    lib = Library(Config(password_hash="cheapest", data_dir=tmp_path, max_body_bytes=4096))
    lib.init()
    lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    yield create_app(lib)
    lib.close()


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every route of the app, also inside included routers (FastAPI keeps those as wrappers; none has a prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def unsafe_routes(app: FastAPI) -> list[tuple[str, str]]:
    """``(method, path with every parameter filled)`` of every unsafe route of the app."""
    return [
        (method, _PARAM.sub("x", route.path))
        for route in api_routes(app.routes)
        for method in sorted(route.methods - SAFE_METHODS)
    ]


def signed_in(app: FastAPI) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    token = client.get("/api/csrf").json()["csrf_token"]
    r = client.post("/login", data={"login": "ada", "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "dp_session" in client.cookies
    return client


def test_every_unsafe_route_needs_a_csrf_token(app: FastAPI) -> None:
    routes = unsafe_routes(app)
    # The walk is not vacuous, and the one exemption is RFC 8058's one-click unsubscribe (its own test:
    # tests/web/test_subscriptions_http.py): a mail client POSTs it without cookie or page.
    assert len(routes) >= 14 and set(CSRF_EXEMPT) == {"/unsubscribe/one-click"}
    client = signed_in(app)
    for method, path in routes:
        if path in CSRF_EXEMPT:
            continue
        for body in ({}, {"data": {"csrf_token": "forged"}}, {"headers": {"X-CSRF-Token": "forged"}}):
            r = client.request(method, path, **body)  # type: ignore[arg-type]
            assert r.status_code == 403, (method, path, body, r.text[:200])
            assert "CSRF token is missing or wrong" in r.text


def test_every_unsafe_route_refuses_a_foreign_origin(app: FastAPI) -> None:
    client = signed_in(app)
    token = client.get("/api/csrf").json()["csrf_token"]
    for method, path in unsafe_routes(app):
        for origin in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "http://evil.example/x"}):
            r = client.request(method, path, headers={"X-CSRF-Token": token, **origin})
            assert r.status_code == 403, (method, path, origin)
            assert "only from pages of this site" in r.text


def test_a_token_of_another_session_or_planted_cookie_is_refused(app: FastAPI) -> None:
    attacker = TestClient(app)
    planted_cookie = attacker.get("/api/csrf").cookies["dp_csrf"]
    attacker_token = attacker.get("/api/csrf").json()["csrf_token"]
    victim = signed_in(app)
    victim.cookies.set("dp_csrf", planted_cookie)  # cookie tossing: the attacker's pair, the victim's session
    r = victim.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": attacker_token})
    assert r.status_code == 403
    good = victim.get("/api/csrf").json()["csrf_token"]
    assert victim.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": good}).status_code == 201


def test_api_token_requests_need_no_csrf_token(app: FastAPI) -> None:
    client = signed_in(app)
    token = client.get("/api/csrf").json()["csrf_token"]
    secret = client.post("/api/tokens", json={"name": "cli"}, headers={"X-CSRF-Token": token}).json()["token"]
    script = TestClient(app)
    r = script.post("/api/tokens", json={"name": "from a script"}, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 201 and r.json()["name"] == "from a script"
    r = script.post("/api/tokens", json={"name": "x"}, headers={"Authorization": "Bearer dp_made_up"})
    assert r.status_code == 401 and "unknown, revoked" in r.json()["error"]


def test_a_body_over_the_limit_is_refused_before_it_is_read(app: FastAPI) -> None:
    client = TestClient(app)
    r = client.post("/login", content=b"x" * 5000, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "larger than 4,096 bytes" in r.text
    r = client.post("/api/votes/x", content=b"{" * 5000, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(10):
            yield b"y" * 1000

    r = client.post("/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_a_bug_is_a_500_with_a_request_id_never_a_400(app: FastAPI) -> None:
    def boom() -> None:
        raise ValueError("internal detail: /srv/secret/path")

    app.add_api_route("/api/boom", boom)
    app.add_api_route("/boom", boom)
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/boom")
    body = r.json()
    assert r.status_code == 500 and set(body) == {"ok", "error", "status", "request_id"}
    assert body["request_id"] in body["error"] and r.headers["x-request-id"] == body["request_id"]
    assert "secret" not in r.text and "Traceback" not in r.text
    page = client.get("/boom")
    assert page.status_code == 500 and page.headers["x-request-id"] in page.text and "secret" not in page.text
    assert client.get("/healthz").headers["x-request-id"]  # every response names its request


def test_a_malformed_json_body_says_so(app: FastAPI) -> None:
    client = signed_in(app)
    token = client.get("/api/csrf").json()["csrf_token"]
    r = client.post(
        "/api/tokens", content=b'{"name": ', headers={"Content-Type": "application/json", "X-CSRF-Token": token}
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("The request body is not valid JSON (")
