"""One view, several renderings: the one way a page and its JSON (Atom, BibTeX) twins are registered.

A feature writes one *view*: a function that takes the request's parameters and returns the page's data (any
object: a dataclass, a dict). :func:`view` registers it once per rendering, each at its own path:

    @view(router,
          Html("/papers/date/{day}", "period.html", context=period_context, summary="Papers added on a day (HTML)"),
          Json("/api/days/{day}", PeriodOut, period_json, summary="Papers added on a day"),
          Atom("/feeds/days/{day}.atom", period_feed, summary="A day's papers (Atom)"))
    def day(library: LibraryDep, day: DayPath, p: PageParam = 1) -> PeriodView:
        return period_view(library, day_period(day), p)

Every registered path calls the same view with the same checked parameters, so a page and its twins can never
show different data; the rendering is chosen by the route, never by testing the path. A view may return a
:class:`~starlette.responses.Response` instead (a redirect to the canonical address, say, which
:func:`redirect_to` makes for whichever rendering asked): every rendering passes it through. Each rendering also
answers ``HEAD`` (left out of the OpenAPI schema), as :func:`allow_head` does.

The endpoints carry their view (``endpoint.view``) and rendering (``endpoint.rendering``): a test walks the app's
routes and checks that every page with a JSON twin is registered here.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_type_hints
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.responses import RedirectResponse, Response

from dailypapers.papers.models import Paper
from dailypapers.web.feeds import ATOM
from dailypapers.web.responses import BIBTEX, bibtex_response
from dailypapers.web.templating import render

V = TypeVar("V", bound=Callable[..., Any])
Responses = dict[int | str, dict[str, Any]]


@dataclass(frozen=True)
class Html:
    """The page: ``template`` rendered with ``context(request, data)`` (default: ``data`` itself, a dict). The
    context may be a :class:`Response` instead, where only the page differs from its twins (a visitor sent to the
    log-in page where the JSON twin answers 401)."""

    path: str
    template: str
    context: Callable[[Request, Any], dict[str, Any] | Response] | None = None
    summary: str = ""
    kind = "html"
    tag = "pages"

    def respond(self, request: Request, data: Any) -> Response:
        context = self.context(request, data) if self.context else data
        return context if isinstance(context, Response) else render(request, self.template, context)

    def route_options(self) -> dict[str, Any]:
        return {"response_model": None, "response_class": HTMLResponse}


@dataclass(frozen=True)
class Json:
    """The JSON twin: ``to_json(request, data)``, checked against ``model`` (what the OpenAPI schema shows)."""

    path: str
    model: Any
    to_json: Callable[[Request, Any], Any]
    summary: str = ""
    response_class: type[Response] | None = None
    kind = "json"
    tag = "api"

    def respond(self, request: Request, data: Any) -> Any:
        return self.to_json(request, data)

    def route_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"response_model": self.model}
        if self.response_class is not None:
            options["response_class"] = self.response_class
        return options


@dataclass(frozen=True)
class Atom:
    """The Atom feed (RFC 4287): ``to_feed(request, data)`` builds it (:func:`dailypapers.web.feeds.atom_response`)."""

    path: str
    to_feed: Callable[[Request, Any], Response]
    summary: str = ""
    description: str = "An Atom feed (RFC 4287) of the list."
    kind = "atom"
    tag = "feeds"

    def respond(self, request: Request, data: Any) -> Response:
        return self.to_feed(request, data)

    def route_options(self) -> dict[str, Any]:
        responses: Responses = {200: {"content": {ATOM: {}}, "description": self.description}}
        return {"response_model": None, "response_class": Response, "responses": responses}


@dataclass(frozen=True)
class Bibtex:
    """The papers of the view as a BibTeX download: ``papers(data)`` and the file's ``name(data)``."""

    path: str
    papers: Callable[[Any], list[Paper]]
    name: Callable[[Any], str]
    summary: str = ""
    description: str = "The papers as BibTeX `@misc` entries."
    kind = "bibtex"
    tag = "pages"

    def respond(self, request: Request, data: Any) -> Response:
        return bibtex_response(self.papers(data), self.name(data))

    def route_options(self) -> dict[str, Any]:
        responses: Responses = {200: {"content": {BIBTEX: {}}, "description": self.description}}
        return {"response_model": None, "response_class": PlainTextResponse, "responses": responses}


Rendering = Html | Json | Atom | Bibtex


@dataclass
class _Signature:
    """The view's parameters with their annotations resolved in the view's own module (FastAPI would look them up
    in this module's globals), and ``request`` added where the view does not ask for it."""

    signature: inspect.Signature
    wants_request: bool = field(default=False)

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> _Signature:
        hints = get_type_hints(fn, include_extras=True)
        params = [
            p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(fn).parameters.values()
        ]
        wants = any(p.name == "request" for p in params)
        if not wants:
            params.insert(0, inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request))
        return cls(inspect.Signature(params, return_annotation=Any), wants)


def _endpoint(fn: Callable[..., Any], rendering: Rendering, sig: _Signature) -> Callable[..., Any]:
    def call(request: Request, data: Any) -> Any:
        return data if isinstance(data, Response) else rendering.respond(request, data)

    if inspect.iscoroutinefunction(fn):

        async def endpoint_async(request: Request, **kwargs: Any) -> Any:
            data = await (fn(request=request, **kwargs) if sig.wants_request else fn(**kwargs))
            return call(request, data)

        endpoint: Callable[..., Any] = endpoint_async
    else:

        def endpoint_sync(request: Request, **kwargs: Any) -> Any:
            data = fn(request=request, **kwargs) if sig.wants_request else fn(**kwargs)
            return call(request, data)

        endpoint = endpoint_sync
    functools.update_wrapper(endpoint, fn, updated=())
    delattr(endpoint, "__wrapped__")  # FastAPI must read __signature__, not the view's own (string) annotations
    endpoint.__signature__ = sig.signature  # type: ignore[attr-defined]
    endpoint.__name__ = f"{fn.__name__}_{rendering.kind}"
    endpoint.view = fn  # type: ignore[attr-defined]
    endpoint.rendering = rendering  # type: ignore[attr-defined]
    return endpoint


def view(router: APIRouter, *renderings: Rendering, responses: Responses | None = None) -> Callable[[V], V]:
    """Register the decorated view under each of ``renderings`` (``GET`` and ``HEAD``); the view's docstring is
    every operation's description. Returns the view unchanged (callable as a plain function)."""
    if not renderings:
        raise ValueError("a view needs at least one rendering")

    def register(fn: V) -> V:
        sig = _Signature.of(fn)
        for rendering in renderings:
            endpoint = _endpoint(fn, rendering, sig)
            options = rendering.route_options()
            extra = options.pop("responses", None) or {}
            common: dict[str, Any] = {"name": endpoint.__name__, **options}
            router.add_api_route(
                rendering.path,
                endpoint,
                methods=["GET"],
                summary=rendering.summary or None,
                description=inspect.cleandoc(fn.__doc__ or ""),
                tags=[rendering.tag],
                responses={**(responses or {}), **extra} or None,
                **common,
            )
            router.add_api_route(rendering.path, endpoint, methods=["HEAD"], include_in_schema=False,
                                 **{**common, "name": endpoint.__name__ + "_head"})  # fmt: skip
        fn.renderings = renderings  # type: ignore[attr-defined]
        return fn

    return register


def redirect_to(request: Request, status_code: int = 307, **path_params: str) -> RedirectResponse:
    """A redirect to the rendering that answers ``request``, with ``path_params`` (each quoted) in its path and the
    query string kept: how a view sends every rendering to its canonical address (the page to the page, the JSON
    to the JSON)."""
    path: str = request.scope["endpoint"].rendering.path
    for name, value in path_params.items():
        path = re.sub(r"\{" + name + r"(:[^}]*)?\}", quote(value, safe=""), path)  # only %XX: no group references
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=status_code)
