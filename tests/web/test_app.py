"""The application itself: health check, OpenAPI schema, the factory's default library, model warm-up."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

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


def test_healthz(http: httpx.Client) -> None:
    r = http.get("/healthz")
    assert r.status_code == 200 and r.json() == {"ok": True, "papers": 298}


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
        assert client.get("/healthz").json() == {"ok": True, "papers": 298}
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
    library = Library(Config(data_dir=tmp_path), embedder=embedder)
    library.init()
    try:
        with TestClient(create_app(library)) as client:  # returns although the embedder is still blocked
            assert embedder.called.wait(10), "startup did not start warming the model"
            assert client.get("/healthz").json() == {"ok": True, "papers": 0}
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
    library = Library(Config(data_dir=tmp_path, warm_up=False), embedder=embedder)
    library.init()
    library.ingest([make_paper(source="jsonl", title="Dropout", abstract="Randomly dropping units.")], progress=False)
    indexed = list(embedder.texts)
    try:
        with TestClient(create_app(library)) as client:
            assert client.get("/healthz").json() == {"ok": True, "papers": 1}
            assert embedder.texts == indexed  # startup embedded nothing
            assert client.get("/api/search", params={"q": "dropout", "mode": "semantic"}).status_code == 200
            assert len(embedder.texts) > len(indexed) and "dropout" in embedder.texts[-1]
    finally:
        library.close()
