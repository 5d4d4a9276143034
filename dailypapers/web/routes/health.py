"""Operations endpoints: ``/healthz`` (the process answers), ``/readyz`` (it can serve) and ``/metrics``.

``/healthz`` touches nothing (no database); ``/readyz`` runs :func:`dailypapers.ops.health.readiness`, 200 when
every check passed, 503 with the failed ones otherwise — both JSON, both cheap enough to ask every second.
``/metrics`` answers Prometheus' text format (:mod:`dailypapers.ops.metrics`) to whom ``DAILYPAPERS_METRICS``
allows: nobody (``off``: 404), clients on the loopback address that came straight, not through a proxy (``local``,
the default: a request with ``Forwarded``/``X-Forwarded-For`` came through a proxy, so it is refused even from
127.0.0.1), or a request with ``Authorization: Bearer <DAILYPAPERS_METRICS_TOKEN>`` (``token``).
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from dailypapers.errors import Forbidden, NotSignedIn
from dailypapers.ops.health import liveness, readiness
from dailypapers.ops.metrics import exposition
from dailypapers.web.deps import LibraryDep
from dailypapers.web.responses import allow_head

router = APIRouter(tags=["operations"])
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, Any]:
    """`{"ok": true, "status": "alive"}`, without asking the database (`HEAD /healthz` for uptime checks)."""
    return liveness()


@router.get("/readyz", summary="Readiness: database, migrations, vector index, scheduler")
def readyz(request: Request, library: LibraryDep) -> JSONResponse:
    """200 with every check when this worker can serve, 503 naming the failed checks otherwise."""
    found = readiness(library, getattr(request.app.state, "scheduler", None))
    return JSONResponse(found.as_json(), status_code=200 if found.ok else 503)


def _is_local(request: Request) -> bool:
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "testclient"  # Starlette's in-process TestClient, which is this machine too


def _allowed(request: Request, mode: str, token: str) -> None:
    """Raise the error ``mode`` gives this caller, or return."""
    if mode == "off":
        raise HTTPException(404, "Metrics are off on this instance (DAILYPAPERS_METRICS=off).")
    if mode == "local" and not _is_local(request):
        raise Forbidden("Metrics are served to the local machine only (DAILYPAPERS_METRICS=local).")
    if mode == "token":
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), token.encode()):
            raise NotSignedIn("Metrics need 'Authorization: Bearer' with the metrics token.")


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics, in its text format (DAILYPAPERS_METRICS says who may read them)",
)
def metrics(request: Request, library: LibraryDep) -> Response:
    config = library.config
    _allowed(request, config.metrics, config.metrics_token)
    body, content_type = exposition(request.app.state.metrics_state)
    return Response(body, media_type=content_type)


allow_head(router)
