"""One error shape for the whole site, as JSON under ``/api/`` and as an HTML page everywhere else.

JSON errors are ``{"ok": false, "error": "<a sentence>", "status": <code>}`` with the same sentence in an
``X-Error-Message`` header (Datasette's single error shape). A bad parameter is a 400 with a sentence naming it
("'p' must be a positive integer."), never a 422 or a 500 (Warehouse's rule).

Only a :class:`~dailypapers.errors.UserError` (and FastAPI's own HTTP errors) becomes a 4xx. Anything else is a
bug: a 500 whose page and JSON body carry the request's id (``"request_id"``, also in every response's
``X-Request-Id`` header) and no traceback; the traceback goes to the log under the same id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dailypapers.errors import BadInput, StoreError, UserError

log = logging.getLogger("dailypapers.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_UNSAFE_HEADER_CHARS = re.compile(r"[^\x20-\x7e]")
REQUEST_ID_KEY = "request_id"


BadRequest = BadInput
"""A request the user can fix: status 400 and a sentence that says what to change."""


def sentence(message: str) -> str:
    """``message`` as a sentence: capital first letter and a final full stop."""
    text = " ".join(str(message).split()) or "Something went wrong"
    if text[0].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def wants_json(request: Request) -> bool:
    """API paths answer errors in JSON; pages answer with an HTML page."""
    path = request.url.path
    return path.startswith("/api/") or path in ("/healthz", "/readyz", "/metrics", "/openapi.json")


def _header_value(message: str) -> str:
    """The message made safe for an HTTP header: printable ASCII only, one line, bounded length."""
    return _UNSAFE_HEADER_CHARS.sub("?", message)[:300]


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get(REQUEST_ID_KEY, ""))


def error_response(request: Request, status: int, message: str) -> Response:
    """The error shape for ``request``: JSON (with ``X-Error-Message``) for API paths, an HTML page otherwise.
    A server error (5xx) also names the request id, which the log line of its cause carries too."""
    message = sentence(message)
    rid = request_id(request) if status >= 500 else ""
    response: Response
    if wants_json(request):
        body: dict[str, Any] = {"ok": False, "error": message, "status": status}
        if rid:
            body["request_id"] = rid
        response = JSONResponse(body, status_code=status)
        response.headers["X-Error-Message"] = _header_value(message)
    else:
        response = _error_page(request, status, message, rid)
    # Errors raised outside the middleware stack (500s) never pass the security-header or request-id middleware.
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if rid:
        response.headers.setdefault("X-Request-Id", rid)
    return response


def _error_page(request: Request, status: int, message: str, rid: str) -> Response:
    from dailypapers.web.templating import render

    try:
        context = {"status": status, "message": message, "request_id": rid}
        return render(request, "error.html", context, status_code=status)
    except Exception:  # the error page must never fail: fall back to a bare page
        log.exception("error page could not be rendered")
        from markupsafe import escape

        body = f"<!doctype html><title>Error {status}</title><h1>Error {status}</h1><p>{escape(message)}</p>"
        return HTMLResponse(body, status_code=status)


_TYPE_MESSAGES = {
    "int_parsing": "'{name}' must be a positive integer.",
    "int_type": "'{name}' must be a positive integer.",
    "greater_than_equal": "'{name}' must be a positive integer.",
    "greater_than": "'{name}' must be a positive integer.",
    "less_than_equal": "'{name}' must be at most {le}.",
    "literal_error": "'{name}' must be one of {expected}.",
    "enum": "'{name}' must be one of {expected}.",
    "missing": "'{name}' is required.",
    "string_too_long": "'{name}' must be at most {max_length} characters.",
    "bad_form": "'{name}' must be {form}.",  # raised by the parameter types of dailypapers.web.routes
    "json_invalid": "The request body is not valid JSON ({error} at character {position}).",
    "model_attributes_type": "The request body must be a JSON object.",
    "dict_type": "The request body must be a JSON object.",
}


def validation_message(exc: RequestValidationError) -> str:
    """A sentence for the first problem FastAPI found with the request's parameters."""
    errors = list(exc.errors())
    if not errors:
        return "The request's parameters are not valid."
    first: dict[str, Any] = errors[0]
    raw_loc = list(first.get("loc", ()))
    loc = [str(part) for part in raw_loc if part not in ("query", "path", "body", "header")]
    name = ".".join(loc) or "parameter"
    template = _TYPE_MESSAGES.get(str(first.get("type")))
    ctx = dict(first.get("ctx") or {})
    if first.get("type") == "json_invalid":  # loc is ("body", <character offset>), not a parameter name
        ctx["position"] = raw_loc[1] if len(raw_loc) > 1 else 0
    if template:
        try:
            return template.format(name=name, **ctx)
        except (KeyError, IndexError):
            pass
    return sentence(f"'{name}': {first.get('msg', 'is not valid')}")


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 400, validation_message(exc))


def allowed_methods(routes: Sequence[Any], path: str) -> set[str]:
    """The methods of every route whose path pattern matches ``path`` (inside included routers too)."""
    found: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps an included router as a wrapper
        if inner is not None:
            found |= allowed_methods(inner.routes, path)
        elif getattr(route, "methods", None) and route.path_regex.match(path):
            found |= set(route.methods)
    return found


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"There is no page at {request.url.path[:200]}."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed here."
        allowed = allowed_methods(request.app.router.routes, request.url.path)
        if allowed:  # every method of the path, not just those of the first route that matched it (RFC 9110 §15.5.6)
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(allowed))}
    else:
        message = str(exc.detail)
    response = error_response(request, exc.status_code, message)
    for name, value in (exc.headers or {}).items():
        response.headers.setdefault(name, value)
    return response


async def _on_user_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UserError)
    response = error_response(request, exc.status, exc.message)
    for name, value in exc.headers.items():
        response.headers.setdefault(name, value)
    return response


async def _on_store_error(request: Request, exc: Exception) -> Response:
    # The database's own message can name hosts and files: log it, show the user a sentence without them.
    log.error("store error on %s: %s", request.url.path, exc)
    return error_response(request, 503, "The database could not answer this request; please try again shortly.")


async def _on_exception(request: Request, exc: Exception) -> Response:
    rid = request_id(request)
    log.error("unhandled error on %s %s (request %s)", request.method, request.url.path, rid, exc_info=exc)
    return error_response(
        request, 500, f"Something went wrong on our side; the error has been logged as request {rid}."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure through :func:`error_response`."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(StoreError, _on_store_error)
    app.add_exception_handler(UserError, _on_user_error)
    app.add_exception_handler(Exception, _on_exception)
