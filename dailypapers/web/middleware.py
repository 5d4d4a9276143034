"""A plain-ASGI middleware base that edits a response's headers as it starts (no body buffering)."""

from __future__ import annotations

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
