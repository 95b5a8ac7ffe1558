"""uvicorn's httptools HTTP/1.1 protocol with two guards it lacks: header size and header time.

- The request line and headers together may not exceed EARLYPATH_MAX_HEADER_BYTES: counted as the
  bytes arrive, so a 100 MB header is refused after the first few kilobytes (431, then close).
- They must arrive within EARLYPATH_HEADER_TIMEOUT seconds of the connection opening or of the
  request starting (slow "half-open" connections are answered 408 and closed).
Idle keep-alive connections are closed after uvicorn's `timeout_keep_alive`, as uvicorn closes
them, by one idle timer per connection rather than uvicorn's timer set and cancelled per request
(`UVICORN_KEEP_ALIVE_PARTS`; with a uvicorn lacking one of them, uvicorn's own timer).

Used by `earlypath serve` (`http="earlypath.web.protocol:GuardedHttpToolsProtocol"`); the limits
are read from the environment once per worker process. uvicorn run directly gets the same guards
with `--http earlypath.web.protocol:GuardedHttpToolsProtocol`. Each request it parses carries the
scope extension GUARDED_HTTP, so the application can tell (and warn) when a server without these
guards runs it.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from earlypath.web.config import Settings
from earlypath.web.limits import GUARDED_HTTP


@functools.cache
def _limits() -> tuple[int, int]:
    settings = Settings.from_env()
    return settings.max_header_bytes, settings.header_timeout


def _response(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"errors": [{"field": "(headers)", "message": message}]}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        # Answered before the application (and its security headers): the two that apply.
        "x-content-type-options: nosniff\r\ncache-control: no-store\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class _JoinedWrites:
    """A connection's transport whose writes are held and sent together: uvicorn writes a
    response's head and its body apart, two system calls each waking the client; joined, one.

    Held data is sent when the response is complete (`on_response_complete`), before the
    transport closes, and at the latest on the event loop's next turn (a streamed body, a
    WebSocket after an upgrade): nothing waits longer than that, and the order is kept. A
    response's head the protocol announces (`expect_head`) is the exception: it waits for its
    body's first write and leaves with it, at once, with no turn scheduled for it (a call_soon
    per response, some 10k instructions, that found nothing to send once the response was
    complete). Every other attribute is the transport's own.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._head_next = False  # the next write is a response's head (`expect_head`)
        self._head_waiting = False  # `_held` is that head, waiting for its body

    def expect_head(self) -> None:
        """The next write is the head of a response whose body is written after it, by the
        same task (uvicorn's response cycle): it is held for the body's first write, or the
        response's end, or the close, whichever comes first."""
        self._head_next = not self._held

    def write(self, data: bytes) -> None:
        if self._head_waiting:
            # the body's first part: the head and it in one write, now
            self._head_waiting = False
            head = self._held
            self._held = []
            self._transport.write(head[0] + data)
            return
        if not self._held:
            if self._head_next:
                self._head_next = False
                self._head_waiting = True
            else:
                self._loop.call_soon(self.flush)
        self._held.append(data)

    def flush(self) -> None:
        held = self._held
        if held:
            self._held = []
            self._head_waiting = False
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def drop(self) -> None:
        """The connection is gone: nothing left to send."""
        self._held = []
        self._head_next = self._head_waiting = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


# What the connection's own idle timer takes from uvicorn's HttpToolsProtocol (its
# `on_response_complete` less the timer, over these attributes: present from uvicorn 0.30 to
# 0.55 at least). A protocol lacking any of them keeps uvicorn's own per-request timer
# (`test_protocol_joined_writes.py` fails naming the missing ones).
UVICORN_KEEP_ALIVE_PARTS = (
    "server_state",
    "transport",
    "flow",
    "pipeline",
    "timeout_keep_alive",
    "timeout_keep_alive_task",
    "timeout_keep_alive_handler",
    "_unset_keepalive_if_required",
)


def missing_keep_alive_parts(protocol: HttpToolsProtocol) -> list[str]:
    """The attributes of `UVICORN_KEEP_ALIVE_PARTS` (and the server state's request count) that
    this uvicorn's protocol lacks: none, and the connection keeps its own idle timer."""
    missing = [name for name in UVICORN_KEEP_ALIVE_PARTS if not hasattr(protocol, name)]
    if "server_state" not in missing and not hasattr(protocol.server_state, "total_requests"):
        missing.append("server_state.total_requests")
    return missing


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request already answered."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that bounds the size and the arrival time of request headers."""

    max_header_bytes: int | None = None  # None: from the environment (see `_limits`)
    header_timeout: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        max_bytes, timeout = _limits()
        self._max_header_bytes = self.max_header_bytes or max_bytes
        self._header_timeout = self.header_timeout or timeout
        self._header_bytes = 0  # raw bytes received while the headers are incomplete
        self._parsed_header_bytes = 0  # request line and headers as parsed
        self._reading_headers = True
        self._refused = False
        # One header timer per connection, not one per request (issue 16): a request's start
        # moves the deadline; the timer, when it fires early for it, is set again for the rest.
        self._header_deadline = 0.0
        self._header_timer: asyncio.TimerHandle | None = None
        # The same for the idle keep-alive timer (issue 16): a response's completion sets the
        # deadline, a request's data clears it (None: not idle), the one timer checks it.
        self._own_keep_alive = not missing_keep_alive_parts(self)
        self._keep_alive_deadline: float | None = None
        self._keep_alive_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._joined = _JoinedWrites(transport, self.loop)
        super().connection_made(self._joined)  # type: ignore[arg-type]
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self._keep_alive_deadline = None
        if self._keep_alive_timer is not None:
            self._keep_alive_timer.cancel()
            self._keep_alive_timer = None
        self._joined.drop()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self._joined.flush()  # the whole response in one write
        if not self._own_keep_alive or self.pipeline:
            # another uvicorn, or a pipelined request to start: uvicorn's own path
            super().on_response_complete()
            return
        # uvicorn's on_response_complete with nothing to start, but for its idle timer
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        self._start_keep_alive_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope.setdefault("extensions", {})[GUARDED_HTTP] = {}
        self._header_bytes = 0
        self._parsed_header_bytes = 0
        self._reading_headers = True
        self._start_header_timer()

    def on_url(self, url: bytes) -> None:
        self._parsed_header_bytes += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed_header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_headers = False  # the header timer, when it fires, has nothing to do
        if self._parsed_header_bytes > self._max_header_bytes:
            self._refuse_headers_too_large()
            raise _Refused  # stops the parser: the rest of this chunk is not read
        cycle = self.cycle
        super().on_headers_complete()
        # A request whose response starts now (not queued behind one under way, not an upgrade,
        # no "100 Continue" to write first): its head waits for its body, no turn scheduled.
        if self.cycle is not cycle and not self.pipeline and not self.expect_100_continue:
            self._joined.expect_head()

    def data_received(self, data: bytes) -> None:
        self._keep_alive_deadline = None  # not idle (uvicorn cancels its timer here)
        if self._refused:
            return
        counting = self._reading_headers
        if counting:
            self._header_bytes += len(data)
        super().data_received(data)
        # Still inside the headers after this chunk, and over the limit: stop reading them.
        if counting and self._reading_headers and self._header_bytes > self._max_header_bytes:
            self._refuse_headers_too_large()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a refusal already answered (the parser reports it as an error)
            super().send_400_response(msg)

    def _refuse_headers_too_large(self) -> None:
        self._refuse(431, "Request Header Fields Too Large", "request headers too large")

    def _start_header_timer(self) -> None:
        """The headers are due within the timeout from now. A call_later and a cancel for every
        request of a keep-alive connection cost some microseconds a call and filled the loop's
        timer heap with cancelled handles; now a request only moves the deadline, and the
        connection's one timer is set when none is pending."""
        self._header_deadline = self.loop.time() + self._header_timeout
        if self._header_timer is None:
            self._header_timer = self.loop.call_at(self._header_deadline, self._header_time_up)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_time_up(self) -> None:
        self._header_timer = None
        if not self._reading_headers:
            return  # the headers came in time: set again when the next request starts
        if self.loop.time() < self._header_deadline:
            # a later request moved the deadline: wait for the rest of its time
            self._header_timer = self.loop.call_at(self._header_deadline, self._header_time_up)
            return
        busy = self.cycle is not None and not self.cycle.response_complete
        if not busy:
            self._refuse(408, "Request Timeout", "request headers not received in time")

    def _start_keep_alive_timer(self) -> None:
        """Idle from now: closed after `timeout_keep_alive` unless a request's data comes. A
        call_later per response and a cancel per request cost some 20k instructions a request;
        now a response only sets the deadline, and the connection's one timer is set when none
        is pending."""
        self._keep_alive_deadline = self.loop.time() + self.timeout_keep_alive
        if self._keep_alive_timer is None:
            self._keep_alive_timer = self.loop.call_at(
                self._keep_alive_deadline, self._keep_alive_time_up
            )

    def _keep_alive_time_up(self) -> None:
        timer = self._keep_alive_timer
        self._keep_alive_timer = None
        deadline = self._keep_alive_deadline
        if deadline is None:
            return  # a request came: set again when its response completes
        if timer is not None and deadline > timer.when():
            # idle again since, from a later response: wait for the rest of its time
            self._keep_alive_timer = self.loop.call_at(deadline, self._keep_alive_time_up)
            return
        self._keep_alive_deadline = None
        self.timeout_keep_alive_handler()  # uvicorn's: closes the connection

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._refused = True
        self._reading_headers = False
        self._cancel_header_timer()
        if not self.transport.is_closing():
            self.transport.write(_response(status, reason, message))
            self.transport.close()
