"""Request bodies are bounded before anything parses them: 413 past ``DAILYPAPERS_MAX_BODY_BYTES``.

Without a bound, one anonymous POST of 200 MB cost the server about 570 MB of memory (Starlette buffers a form
or JSON body whole before a route sees it). A declared ``Content-Length`` over the limit is answered at once,
without reading the body; a body without one (chunked) is counted as it streams in, and answered 413 as soon as
the count passes the limit, having held at most one chunk more than the limit.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large_message(limit: int) -> str:
    return f"The request body is larger than {limit:,} bytes; send less."


class BodyLimitMiddleware:
    """Refuses HTTP request bodies over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int, on_too_large: ASGIApp) -> None:
        self.app = app
        self.limit = limit
        self.on_too_large = on_too_large  # answers the request in the site's error shape (413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            length = None
        if length is not None and length > self.limit:
            scope.setdefault("state", {})["body_limit"] = self.limit
            await self.on_too_large(scope, receive, send)
            return
        received = 0
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Answer 413 here: an exception raised into the app's body parsing would reach the user as
                    # FastAPI's generic 400. The app then sees a disconnected client, and its answer is dropped.
                    refused = True
                    scope.setdefault("state", {})["body_limit"] = self.limit
                    await self.on_too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)
