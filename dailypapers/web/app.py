"""The FastAPI application: ``create_app()`` wires the library, the routers, error handling and security headers.

``uvicorn dailypapers.web.app:create_app --factory`` (what ``dailypapers serve`` runs) calls it without
arguments, and it opens the library the environment configures; tests pass a library of their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from dailypapers.config import load_config
from dailypapers.jobs import start_scheduler
from dailypapers.library import Library
from dailypapers.web.errors import SECURITY_HEADERS, install_error_handlers
from dailypapers.web.middleware import ResponseStartMiddleware
from dailypapers.web.routes import api, hf, pages, papers, search, votes
from dailypapers.web.schemas import HealthOut
from dailypapers.web.templating import STATIC_DIR
from dailypapers.web.voters import VoterCookieMiddleware

log = logging.getLogger("dailypapers.web")


class SecurityHeadersMiddleware(ResponseStartMiddleware):
    """Adds :data:`~dailypapers.web.errors.SECURITY_HEADERS` to every response."""

    def on_response_start(self, scope: Scope, headers: MutableHeaders) -> None:
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)


def warm_up(library: Library) -> None:
    """Load the embedding model and open the vector index, so the first search is as fast as the others."""
    try:
        library.embed_query("warm up")
        _ = library.vectors
    except Exception:  # a failed warm-up only means the first search pays for loading
        log.warning("warming up the embedding model failed", exc_info=True)


def _version() -> str:
    try:
        return version("dailypapers")
    except PackageNotFoundError:
        return "0.1.0"


def create_app(library: Library | None = None) -> FastAPI:
    """The web application serving ``library`` (default: ``Library(load_config())``, closed at shutdown)."""
    owned = library is None
    lib = library if library is not None else Library(load_config())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # In the background: startup must not wait for the model, only the first search might.
        threading.Thread(target=warm_up, args=(lib,), name="dailypapers-warm-up", daemon=True).start()
        scheduler = start_scheduler(lib)  # scheduled arXiv import, if configured; one worker at a time runs it
        yield
        if scheduler:
            scheduler.stop()
        if owned:
            lib.close()

    app = FastAPI(
        title="dailypapers",
        version=_version(),
        summary="Self-hosted research-paper discovery: daily lists, hybrid search, similar papers.",
        description=(
            "Every HTML page has a JSON twin under `/api/`. Errors are "
            '`{"ok": false, "error": "<sentence>", "status": <code>}` with an `X-Error-Message` header.'
        ),
        lifespan=lifespan,
        # Swagger UI and ReDoc load scripts from a CDN, which the Content-Security-Policy forbids;
        # the schema itself is at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.library = lib
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(VoterCookieMiddleware)  # the anonymous voter's cookie, when a request created one
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", response_model=HealthOut, tags=["api"], summary="Liveness and paper count")
    def healthz(request: Request) -> dict[str, object]:
        """`{"ok": true, "papers": N}` while the database answers."""
        return {"ok": True, "papers": request.app.state.library.store.count_papers()}

    app.include_router(api.router)
    app.include_router(hf.router)  # Hugging Face compatible: /api/papers/…, /api/daily_papers, /papers/{id}.md
    app.include_router(pages.router)  # /papers/date|week|month/… before /papers/{id}
    app.include_router(search.router)
    app.include_router(papers.router)  # its /papers/{id} skips /papers/{id}.md (the HF-compatible API's)
    app.include_router(votes.router)  # POST /api/votes/{id}, POST /papers/{id}/vote
    return app
