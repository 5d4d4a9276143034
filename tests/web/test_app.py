"""The application itself: health check, OpenAPI schema, the factory's default library, model warm-up."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.papers.models import make_paper
from dailypapers.web.app import create_app
from dailypapers.web.params import MONTH_PATTERN, WEEK_PATTERN
from dailypapers.web.routes import pages, papers
from dailypapers.web.routes import search as search_routes
from dailypapers.web.views import view


def test_healthz(http: httpx.Client) -> None:
    r = http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True, "status": "alive"}


def test_openapi_documents_the_api(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/search",
        "/api/days/{day}",
        "/api/weeks/{week}",
        "/api/months/{month}",
        "/api/latest",
        "/api/similar/{paper_id}",
        "/healthz",
        "/search",
        "/papers/{paper_id}",
        "/papers/date/{day}",
    ):
        assert path in paths, path
    search = paths["/api/search"]["get"]
    params = {p["name"]: p for p in search["parameters"]}
    assert set(params) == {"q", "since", "until", "category", "author", "mode", "p", "added_since", "added_until"}
    assert all(p.get("description") for p in params.values())
    assert params["mode"]["schema"]["enum"] == ["hybrid", "keyword", "semantic"]
    # Parameters are documented exactly as the server checks them (schemathesis sends what the schema allows).
    assert params["q"]["schema"]["maxLength"] == 10000
    assert {"type": "string", "format": "date"} in params["since"]["schema"]["anyOf"]
    for path, name, key, value in (
        ("/api/days/{day}", "day", "format", "date"),
        ("/api/weeks/{week}", "week", "pattern", WEEK_PATTERN),
        ("/api/months/{month}", "month", "pattern", MONTH_PATTERN),
    ):
        param = next(p for p in paths[path]["get"]["parameters"] if p["name"] == name)
        assert param["in"] == "path" and param["schema"][key] == value, path
    # Validation errors are 400s in the one error shape: FastAPI's 422 is documented nowhere.
    assert [path for path, ops in paths.items() for op in ops.values() if "422" in op["responses"]] == []
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    ok = search["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/SearchOut"}
    assert search["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    result = schema["components"]["schemas"]["SearchResultOut"]["properties"]
    assert {"pinned", "score", "title_html", "published", "authors"} <= set(result)
    assert paths["/api/days/{day}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PeriodOut"
    }

    # /api/papers/… and /api/daily_papers belong to the Hugging Face compatible router, not to ours.
    ours = [r.path for m in (pages, papers, search_routes) for r in m.router.routes if isinstance(r, APIRoute)]
    assert ours and not [p for p in ours if p.startswith(("/api/papers", "/api/daily_papers"))]


def test_factory_opens_the_configured_library(demo_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(demo_config.data_dir))
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", demo_config.database_url)
    closed: list[Library] = []
    real_close = Library.close

    def close(self: Library) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Library, "close", close)
    app = create_app()
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"ok": True, "status": "alive"}
        assert closed == []
    assert closed == [app.state.library]  # the factory's library is the app's to close at shutdown


class _SlowEmbedder:
    """An embedder that blocks until released, to show that startup does not wait for the model."""

    name = "slow-test-embedder"
    dim = 384

    def __init__(self) -> None:
        self.called = threading.Event()
        self.release = threading.Event()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.called.set()
        self.release.wait(30)
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)


def test_startup_warms_the_model_without_waiting(tmp_path: Path) -> None:
    embedder = _SlowEmbedder()
    library = Library(Config(password_hash="cheapest", data_dir=tmp_path), embedder=embedder)
    library.init()
    try:
        with TestClient(create_app(library)) as client:  # returns although the embedder is still blocked
            assert embedder.called.wait(10), "startup did not start warming the model"
            ready = client.get("/readyz")  # the app answers while the model loads, and says it is not ready yet
            assert ready.status_code == 503 and ready.json()["checks"]["vector_index"]["ok"] is False
            embedder.release.set()
    finally:
        embedder.release.set()
        library.close()


class _RecordingEmbedder(_SlowEmbedder):
    """An embedder that answers at once and remembers every text it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.release.set()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts)


def test_without_warm_up_the_model_loads_on_the_first_search(tmp_path: Path) -> None:
    """``DAILYPAPERS_WARM_UP=false``: nothing is embedded at startup; the first search embeds its query."""
    embedder = _RecordingEmbedder()
    library = Library(Config(password_hash="cheapest", data_dir=tmp_path, warm_up=False), embedder=embedder)
    library.init()
    library.ingest([make_paper(source="jsonl", title="Dropout", abstract="Randomly dropping units.")], progress=False)
    indexed = list(embedder.texts)
    try:
        with TestClient(create_app(library)) as client:
            assert client.get("/healthz").json() == {"ok": True, "status": "alive"}
            assert embedder.texts == indexed  # startup embedded nothing
            assert client.get("/api/search", params={"q": "dropout", "mode": "semantic"}).status_code == 200
            assert len(embedder.texts) > len(indexed) and "dropout" in embedder.texts[-1]
    finally:
        library.close()


# GET operations under /api/ that are no page's twin: JSON-only API, so no view with an HTML rendering stands
# behind them. Every other GET under /api/, every /feeds/… and every ….bib route must be a rendering of a view.
JSON_ONLY = {
    "/api/csrf": "a script's CSRF token",
    "/api/me": "who the session or token belongs to",
    "/api/tokens": "the API tokens; the /account page is a page of forms",
    "/api/votes": "a voter's CSRF token (the same as /api/csrf)",
    "/api/comments/{paper_id}": "a paper's threads, a panel of the paper page (whose JSON twin is /api/similar)",
    "/api/claims": "a member's own claims (?pending=true: the admins' queue); /claims is the admins' review form",
    "/api/saved-searches": "the saved searches alone; /alerts (its twin /api/alerts) shows them with their papers",
    "/api/subscriptions/me": "the resource PATCH changes; /account/subscription is a form (a redirect when none)",
    "/api/map/titles": "the map's hover texts, fetched after the first paint of /map (whose twin is /api/map)",
    "/api/topics/rising": "rising topics and key phrases: a section of /map and of the daily page, not a page",
    # The Hugging Face compatible API: huggingface_hub's shapes, no page of ours (dailypapers.web.routes.hf).
    "/api/papers/search": "Hugging Face compatible",
    "/api/papers/{paper_id}": "Hugging Face compatible",
    "/api/daily_papers": "Hugging Face compatible",
}


def _get_routes(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every ``GET`` :class:`APIRoute` with its full path, inside included routers too (FastAPI 0.16x keeps an
    included router as a lazy wrapper around the original instead of copying its routes into the app)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _get_routes(inner.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            yield prefix + route.path_format, route


def _expected_rendering(path: str) -> str | None:
    if path.startswith("/api/"):
        return None if path in JSON_ONLY else "json"
    if path.startswith("/feeds/"):
        return "atom"
    return "bibtex" if path.endswith(".bib") else None


def test_every_json_atom_and_bibtex_twin_is_a_rendering_of_one_view(tmp_path: Path) -> None:
    """A page and its JSON, Atom and BibTeX twins are one view registered by :func:`dailypapers.web.views.view`,
    never twin route functions (issue 20)."""
    library = Library(Config(password_hash="cheapest", data_dir=tmp_path))
    library.init()
    try:
        app = create_app(library)
        routes = list(_get_routes(app.router.routes))
        documented = {path for path, item in app.openapi()["paths"].items() if "get" in item}
    finally:
        library.close()
    assert documented <= {path for path, _ in routes}, "the walk missed routes the schema lists"
    assert not set(JSON_ONLY) - documented, "JSON_ONLY names operations that no longer exist"
    wrong = []
    for path, route in routes:
        expected = _expected_rendering(path)
        rendering = getattr(getattr(route.endpoint, "rendering", None), "kind", None)
        if expected is not None and (getattr(route.endpoint, "view", None) is None or rendering != expected):
            wrong.append(f"GET {path}: {route.endpoint.__module__}.{route.endpoint.__name__}, not a {expected} view")
    assert not wrong, f"register these with {view.__module__}.view (or list a JSON-only one in JSON_ONLY): {wrong}"
