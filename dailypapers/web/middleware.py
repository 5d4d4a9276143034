"""Plain-ASGI middlewares: a base that edits a response's headers as it starts (no body buffering), request ids,
and the refusal of NUL characters in what a request carries."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.web.errors import error_response

NUL_MESSAGE = "A NUL character (%00) is not allowed in an address, a parameter or a form field; remove it."
# A JSON string escape \u0000 (RFC 8259 §7) not itself escaped: an odd run of backslashes before "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class ResponseStartMiddleware:
    """Calls :meth:`on_response_start` with the headers of every HTTP response before they are sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def on_response_start(self, scope: Scope, headers: MutableHeaders) -> None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.on_response_start(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_wrapper)


class RequestIdMiddleware:
    """Gives every HTTP request an id (``scope["state"]["request_id"]``) and answers it in ``X-Request-Id``, so a
    user's report of a 500 finds its log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-Id", rid)
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _body_has_nul(body: bytes, content_type: bytes) -> bool:
    """Whether a request body carries a NUL: as a byte (a multipart field, any body), percent-encoded in a form
    (``%00``), or as a JSON escape (``\\u0000``)."""
    if b"\x00" in body:
        return True
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return b"%00" in body
    return b"\\u0000" in body and _JSON_NUL.search(body) is not None


class NulRefusalMiddleware:
    """Answers 400 (:data:`NUL_MESSAGE`) to a request with a NUL character in its path, its query string or its
    body, before any route sees it.

    PostgreSQL text cannot hold a NUL: psycopg refuses to send one, and its ``DataError`` reached the user as a 500
    (``/papers/%00``, a log-in name, an author filter, anonymous requests included), while SQLite answered 200 or
    404. No id, name or text here has a use for one, so both backends refuse it here, once. A body is read whole
    and handed on unchanged; the middleware runs inside the body limit (``security.bodylimit``), so that is at most
    ``DAILYPAPERS_MAX_BODY_BYTES``, which Starlette would buffer for a form or JSON body anyway.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            await self._refuse(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        # A request has a body only with a Content-Length above 0 or a Transfer-Encoding (RFC 9112 §6.3).
        if headers.get(b"content-length", b"0").strip() in (b"", b"0") and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left, or the body limit answered 413 already
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _body_has_nul(body, headers.get(b"content-type", b"").lower()):
            await self._refuse(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the client's disconnect, as the app would have waited for

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(Request(scope, receive), 400, NUL_MESSAGE)(scope, receive, send)
