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

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import Receive, Scope, Send

from dailypapers.config import load_config
from dailypapers.jobs.scheduler import start_in_process
from dailypapers.library import Library
from dailypapers.ops.logs import install_uvicorn_access_filter
from dailypapers.ops.metrics import StateCollector, listen_to_search
from dailypapers.web.access import AccessLogMiddleware
from dailypapers.web.errors import SECURITY_HEADERS, error_response, install_error_handlers
from dailypapers.web.middleware import NulRefusalMiddleware, RequestIdMiddleware, ResponseStartMiddleware
from dailypapers.web.routes import ROUTERS
from dailypapers.web.security.bodylimit import BodyLimitMiddleware, too_large_message
from dailypapers.web.security.cookies import CookieMiddleware
from dailypapers.web.security.csrf import protect
from dailypapers.web.security.ratelimit import RateLimits
from dailypapers.web.templating import STATIC_DIR

log = logging.getLogger("dailypapers.web")


class SecurityHeadersMiddleware(ResponseStartMiddleware):
    """Adds :data:`~dailypapers.web.errors.SECURITY_HEADERS` to every response."""

    def on_response_start(self, scope: Scope, headers: MutableHeaders) -> None:
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)


def warm_up(library: Library) -> None:
    """Load the embedding model and open the vector index, so the first search is as fast as the others."""
    try:
        library.search.embed_query("warm up")
        _ = library.search.vectors
    except Exception:  # a failed warm-up only means the first search pays for loading
        log.warning("warming up the embedding model failed", exc_info=True)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The 413 answer of :class:`BodyLimitMiddleware`, in the site's error shape."""
    request = Request(scope, receive)
    await error_response(request, 413, too_large_message(scope["state"]["body_limit"]))(scope, receive, send)


def rate_limits_of(lib: Library) -> RateLimits:
    """The instance's named rate limits, counted in its database."""
    c = lib.config
    vote = f"{c.vote_rate_limit}/minute" if c.vote_rate_limit else "0"
    named = {
        "login": c.login_rate_limit,
        "signup": c.signup_rate_limit,
        "vote": vote,
        "comment": c.comment_rate_limit,
        "submit": c.submit_rate_limit,
        "subscribe": c.subscribe_rate_limit,
    }
    return RateLimits(lib.db, named)


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
        if lib.config.warm_up:
            threading.Thread(target=warm_up, args=(lib,), name="dailypapers-warm-up", daemon=True).start()
        scheduler = start_in_process(lib)  # the schedule, if configured; each slot runs once across all workers
        app.state.scheduler = scheduler  # /readyz asks whether it still ticks
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
        # The security layer's checks run before every route: CSRF and origin on each unsafe method, unless a
        # route is listed in dailypapers.web.security.csrf.CSRF_EXEMPT (a test walks the routes).
        dependencies=[Depends(protect)],
        # A trailing-slash redirect would build its Location from the Host header, which a client forges.
        redirect_slashes=False,
    )
    app.state.library = lib
    app.state.rate_limits = rate_limits_of(lib)
    app.state.metrics_state = StateCollector(lib)  # /metrics: the database's counts, read at scrape time
    listen_to_search()  # search step times and embedding batches into /metrics
    install_uvicorn_access_filter()  # uvicorn's own access log, if on, shows no secret (serve turns it off)
    # Outermost last: the access log, request id, security headers, cookies set during the request, the body limit,
    # then the refusal of NUL characters (inside the limit: it reads a body whole).
    app.add_middleware(NulRefusalMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=lib.config.max_body_bytes, on_too_large=_too_large)
    app.add_middleware(CookieMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(AccessLogMiddleware)  # outermost: it measures and logs everything inside, 413s and 400s too
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    include_routes(app)
    return app


def include_routes(app: FastAPI) -> None:
    """Every feature's router in :data:`dailypapers.web.routes.ROUTERS`' order (health checks first)."""
    for router in ROUTERS:
        app.include_router(router)
