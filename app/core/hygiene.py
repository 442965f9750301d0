"""Refuses the NUL character (U+0000) in query strings and JSON bodies with a 422.

PostgreSQL cannot store NUL in text and psycopg refuses to send it, so without this guard a
`\\u0000` anywhere in a request would surface as a 500 on PostgreSQL while SQLite stored it.
No field of the API has a use for it; refusing it at the edge keeps both databases identical and
covers every route, every query parameter and every cursor at once. The check streams: the body
is scanned chunk by chunk as the application reads it, with no extra buffering."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response

MESSAGE = "Text may not contain the NUL character (U+0000)."
_ESCAPE = b"u0000"
_BACKSLASH = 0x5C


class NulScanner:
    """Finds a JSON `\\u0000` escape in a body fed in chunks: an escape is `u0000` preceded by
    an odd run of backslashes (an even run is escaped backslashes followed by plain text)."""

    def __init__(self) -> None:
        self._tail = b""  # the last bytes of the previous chunks that a match may span
        self._run_before_tail = 0  # backslashes immediately before _tail

    def feed(self, chunk: bytes) -> bool:
        data = self._tail + chunk
        start = 0
        while (i := data.find(_ESCAPE, start)) != -1:
            run, j = 0, i - 1
            while j >= 0 and data[j] == _BACKSLASH:
                run, j = run + 1, j - 1
            if j < 0:
                run += self._run_before_tail
            if run % 2 == 1:
                return True
            start = i + 1
        # Keep what a later match may need: the last len(_ESCAPE) bytes and, before them, the
        # count of the backslash run that ends there.
        keep = len(_ESCAPE)
        head, self._tail = data[:-keep], data[-keep:]
        if len(data) <= keep:
            head, self._tail = b"", data
            return False
        stripped = head.rstrip(b"\\")
        run = len(head) - len(stripped)
        self._run_before_tail = run + (self._run_before_tail if not stripped else 0)
        return False


class NulInBody(HTTPException):
    """Raised while the application reads the body. An HTTPException, because FastAPI turns any
    other exception raised during body parsing into a generic 400."""

    def __init__(self) -> None:
        super().__init__(422, f"body: {MESSAGE}")
        self.errors = [{"field": "body", "message": MESSAGE}]


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            await problem_response(
                422, f"query: {MESSAGE}", errors=[{"field": "query", "message": MESSAGE}]
            )(scope, receive, send)
            return
        ctype = b""
        for name, value in scope["headers"]:
            if name == b"content-type":
                ctype = value.split(b";")[0].strip().lower()
                break
        if not (ctype == b"application/json" or ctype.endswith(b"+json")):
            await self.app(scope, receive, send)
            return
        scanner = NulScanner()

        async def guarded_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and scanner.feed(message.get("body", b"")):
                raise NulInBody()
            return message

        await self.app(scope, guarded_receive, send)
