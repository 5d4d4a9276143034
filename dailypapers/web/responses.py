"""Response helpers every feature shares: HEAD twins of GET routes, BibTeX downloads, JSON safe to embed, paging.

Every page also answers ``HEAD`` (:func:`allow_head`): FastAPI registers a ``GET`` route for ``GET`` alone, so
``HEAD /`` (what uptime checks and link checkers send) was a 405. The server sends no body for ``HEAD``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from dailypapers.papers.bibtex import to_bibtex
from dailypapers.papers.models import Paper

BIBTEX = "application/x-bibtex"


def allow_head(router: APIRouter) -> None:
    """Add a ``HEAD`` twin of every ``GET`` route of ``router`` that has none yet: the same endpoint, left out of
    the OpenAPI schema (a HEAD operation per path would only double it). Call it after the router's last route."""
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    has_head = {r.path for r in routes if "HEAD" in (r.methods or ())}
    for route in routes:
        if "GET" in (route.methods or ()) and route.path not in has_head:
            router.add_api_route(
                route.path.removeprefix(router.prefix),
                route.endpoint,
                methods=["HEAD"],
                name=f"{route.name}_head",
                include_in_schema=False,
                response_model=route.response_model,
                response_class=route.response_class,
            )


def bibtex_response(papers: list[Paper], name: str) -> Response:
    """``papers`` as a BibTeX file (UTF-8), offered for download as ``<name>.bib``."""
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "papers"
    return Response(
        to_bibtex(papers),
        media_type=f"{BIBTEX}; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}.bib"'},
    )


class SafeJSONResponse(JSONResponse):
    """JSON with ``<``, ``>`` and ``&`` escaped as ``\\u003c``-style sequences (the same values once decoded), so
    text people wrote stays inert even where a careless client drops the JSON into HTML."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


class Paged:
    """Paging of a list view that has ``total``, ``page`` (from 1) and ``page_size``."""

    total: int
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size
