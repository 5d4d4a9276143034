"""Plain-ASGI middlewares: a base that edits a response's headers as it starts (no body buffering), request ids."""

from __future__ import annotations

import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
