"""Request limits enforced before any handler runs: body size, body read time, JSON nesting.

The body is read here, counted while it arrives (a declared Content-Length over the limit is
refused before reading any of it), then handed on to the application. The answers are short:
413 too large, 408 too slow, 400 nested too deep, 400 a malformed Content-Length. Header size
and the header-read timeout live in the HTTP protocol (`earlypath.web.protocol`), because the
headers are parsed before the application sees the request. Under any other server (uvicorn run
directly without `--http earlypath.web.protocol:GuardedHttpToolsProtocol`, hypercorn, ...) the
headers are still checked here, once parsed (431: the request is not processed, though the server
has already buffered them), and one warning says that the header-read timeout and the bound on
what the server buffers are missing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Coroutine, Generator, Mapping
from types import CoroutineType
from typing import Any

import orjson

from earlypath.web.digit_runs import nests_deeper

Message = dict[str, Any]

log = logging.getLogger("earlypath.web")

# Scope extension set by `earlypath.web.protocol` on each request it parses (headers bounded in
# size and arrival time before the application is called).
GUARDED_HTTP = "earlypath.guarded_http"
UNGUARDED_SERVER_WARNING = (
    "This server does not bound request headers (size as they arrive, header-read timeout): "
    "start the service with `earlypath serve`, or uvicorn with "
    "--http earlypath.web.protocol:GuardedHttpToolsProtocol"
)
# Starlette's in-process TestClient: no sockets, nothing to bound.
_IN_PROCESS_SERVER = "testserver"


def header_bytes(scope: Message) -> int:
    """Request line and headers as parsed, counted as the guarded protocol counts them."""
    query = scope.get("query_string") or b""
    size = len(scope.get("raw_path") or scope.get("path", "").encode())
    size += len(query) + 1 if query else 0  # and its "?"
    return size + sum(len(name) + len(value) + 4 for name, value in scope.get("headers") or [])


# A JSON string, escapes included; what is left outside strings holds the brackets.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPENING = frozenset(b"[{")
# Bodies that are not JSON: form posts from the pages.
_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


# The scope key under which `RequestLimits` leaves the body as orjson parsed it, when it did
# (to measure its nesting), so the app does not parse the same bytes again (`parsed_body`).
PARSED_BODY = "earlypath.parsed_body"
NOT_PARSED = object()


def json_too_deep(raw: bytes, limit: int) -> bool:
    """True if the arrays and objects in `raw` nest deeper than `limit` (strings ignored).

    Counted without recursion, so a body nested 100,000 deep costs a scan, not a stack. The
    usual body is answered without a scan: one with no more opening brackets than the limit
    (those in strings included) cannot nest deeper, and one orjson parses (it refuses nesting
    over 1,024) is measured by the C scan of its brackets (`digit_runs.nests_deeper`), or on
    its values without the build. What is left (not JSON, or deeper than orjson goes) is
    scanned as text.
    """
    return _nesting(raw, limit)[0]


def _nesting(raw: bytes, limit: int) -> tuple[bool, Any]:
    """`json_too_deep`, and the value orjson parsed on the way (`NOT_PARSED` if it did not)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False, NOT_PARSED
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _brackets_too_deep(raw, limit), NOT_PARSED
    # valid JSON: its brackets outside strings are its containers, scanned in C (a walk of the
    # value was ~110k instructions of a 2 kB record's call), else the value walked
    if nests_deeper is not None:
        return nests_deeper(raw, limit), value
    return _values_too_deep(value, limit), value


def _values_too_deep(value: Any, limit: int) -> bool:
    """Do the lists and dicts of a parsed JSON value nest deeper than `limit`?

    Level by level, each level's containers gathered in one comprehension: a CDS call carrying
    a whole record (80 kB, 12k values) is 0.16 ms, where a stack of (node, depth) took 0.35 ms.
    """
    level = [value] if type(value) is list or type(value) is dict else []
    depth = 1
    while level:
        if depth > limit:
            return True
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
        depth += 1
    return False


def parsed_body(scope: Mapping[str, Any]) -> Any:
    """The body as orjson parsed it in `RequestLimits`, or `NOT_PARSED`."""
    return scope.get(PARSED_BODY, NOT_PARSED)


def _brackets_too_deep(raw: bytes, limit: int) -> bool:
    """The same question for text that may not be JSON: its brackets outside strings."""
    brackets = _NOT_A_BRACKET.sub(b"", _JSON_STRING.sub(b"", raw))
    if len(brackets) <= limit:
        return False
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _error_body(message: str, field: str = "(request)") -> bytes:
    return json.dumps({"errors": [{"field": field, "message": message}]}).encode()


async def send_error(
    send: Any, status: int, message: str, *, field: str = "(request)", close: bool = True
) -> None:
    """A short JSON error sent straight to the ASGI server (middleware answers, before or instead
    of the app); with ``close`` it also closes the connection (the rest of the body is not read)."""
    body = _error_body(message, field)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _ClientGone(Exception):
    pass


class RequestLimits:
    """ASGI middleware: reads the body within the size and time limits, checks JSON nesting."""

    def __init__(
        self,
        app: Any,
        *,
        max_body_bytes: int,
        body_timeout: float,
        max_json_depth: int,
        max_header_bytes: int | None = None,
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.max_json_depth = max_json_depth
        self.max_header_bytes = max_header_bytes
        self._warned_unguarded = False

    def _headers_too_large(self, scope: Message) -> bool:
        """Over the header limit, for servers that do not bound headers themselves."""
        if GUARDED_HTTP in (scope.get("extensions") or {}):
            return False  # already bounded while they arrived
        server = scope.get("server")
        if not self._warned_unguarded and not (server and server[0] == _IN_PROCESS_SERVER):
            self._warned_unguarded = True
            log.warning(UNGUARDED_SERVER_WARNING)
        return self.max_header_bytes is not None and header_bytes(scope) > self.max_header_bytes

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        read = await self.read_request(scope, receive, send)
        if read is None:
            return
        scope, body = read
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)

    async def read_request(
        self, scope: Message, receive: Any, send: Any
    ) -> tuple[Message, bytes] | None:
        """The request's body read within the limits, and the scope the app is given (with the
        body as orjson parsed it, when it did); None when the request was answered here (413,
        408, 400, 431: sent to ``send``) or the client went away."""
        headers = dict(scope.get("headers") or [])
        try:
            if self._headers_too_large(scope):
                raise _Refused(431, "request headers too large")
            self._check_declared_length(headers.get(b"content-length"))
            # the usual body, in before the app is called, read without a coroutine of its own
            # (a frame and an await a call); one that must be waited for, under the timer
            message, waiting = self._first_message(receive)
            body = self._whole_body(message)
            if body is None:
                body = await self._read_body(receive, message, waiting)
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            is_form = content_type in _FORM_TYPES
            if body and not is_form:
                too_deep, value = _nesting(body, self.max_json_depth)
                if too_deep:
                    raise _Refused(400, f"JSON is nested deeper than {self.max_json_depth} levels")
                if value is not NOT_PARSED:
                    scope = {**scope, PARSED_BODY: value}  # the app's own copy of the scope
        except _Refused as refused:
            await send_error(send, refused.status, refused.message)
            return None
        except _ClientGone:
            return None  # nobody to answer
        return scope, body

    def _check_declared_length(self, value: bytes | None) -> None:
        if value is None:
            return
        if not value.strip().isdigit():
            raise _Refused(400, "Content-Length must be a whole number")
        if int(value) > self.max_body_bytes:
            raise _Refused(413, f"request body over {self.max_body_bytes} bytes")

    def _first_message(self, receive: Any) -> tuple[Message | None, Any]:
        """The first message when the first receive() ends without waiting, else None and what
        to await for it (the receive started, or the awaitable it gave)."""
        # Most bodies are in before the app is called (they come with the headers): the first
        # receive() then ends without waiting, and a whole body so read needs no timer (arming
        # and cancelling `asyncio.timeout` was about 2% of a CDS call's instructions). A
        # receive that waits, and a body in several messages, are read under the timer.
        waiting: Any = receive()
        if type(waiting) is CoroutineType:
            try:
                blocked_on = waiting.send(None)
            except StopIteration as done:
                return done.value, None
            except TimeoutError:
                raise _Refused(408, "request body not received in time") from None
            return None, _Started(waiting, blocked_on)
        return None, waiting

    def _whole_body(self, message: Message | None) -> bytes | None:
        """The body when ``message`` is all of it (within the size limit), else None."""
        if (
            message is not None
            and message["type"] != "http.disconnect"
            and not message.get("more_body", False)
        ):
            body = b"".join((message.get("body", b""),))
            if len(body) > self.max_body_bytes:
                raise _Refused(413, f"request body over {self.max_body_bytes} bytes")
            return body
        return None

    async def _read_body(self, receive: Any, message: Message | None, waiting: Any) -> bytes:
        """The body from ``message`` (the first, or None) and what to await for the next
        (``waiting``: from `_first_message`, or None to call receive()), under the timer."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    if message is None:
                        message = await (receive() if waiting is None else waiting)
                        waiting = None
                    if message["type"] == "http.disconnect":
                        raise _ClientGone
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise _Refused(413, f"request body over {self.max_body_bytes} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
                    message = None
        except TimeoutError:
            raise _Refused(408, "request body not received in time") from None


class _Started:
    """A coroutine started by hand and now waiting on ``blocked_on``, awaited to its end: what
    `await` does with a coroutine (PEP 380's expansion), from where it stopped."""

    __slots__ = ("_blocked_on", "_coroutine")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], blocked_on: Any):
        self._coroutine = coroutine
        self._blocked_on = blocked_on

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, value = self._coroutine, self._blocked_on
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # noqa: BLE001 - thrown in (a cancel): passed on
                try:
                    value = coroutine.throw(error)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    value = coroutine.send(sent)
                except StopIteration as done:
                    return done.value
