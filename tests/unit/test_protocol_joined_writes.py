"""The guarded protocol sends a response's head and body in one write (issue 16), and holds
nothing longer than the event loop's next turn: before a close, in order, dropped once the
connection is gone."""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from earlypath.web import protocol as protocol_module
from earlypath.web.protocol import GuardedHttpToolsProtocol, _JoinedWrites

REQUEST = (
    b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
)


class FakeTransport(asyncio.Transport):
    """Records each write (one per system call on a real socket) and the close."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True
        self.writes.append(b"<closed>")

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _run_alone(call: Any) -> Any:
    """A coroutine on an event loop of its own thread (in the whole suite a browser test can
    leave a loop running in this one, where asyncio.run fails)."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, call).result()


async def _answer(app: Any, request: bytes = REQUEST) -> list[bytes]:
    config = Config(app=app, lifespan="off", log_level="warning")
    loop = asyncio.get_running_loop()
    protocol = GuardedHttpToolsProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=loop
    )
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(20):
        await asyncio.sleep(0)
    protocol.connection_lost(None)
    return transport.writes


async def _json_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    body = b'{"cards":[]}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"12")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_head_and_body_in_one_write() -> None:
    writes = [w for w in _run_alone(_answer(_json_app)) if w != b"<closed>"]
    assert len(writes) == 1, writes
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b'\r\n\r\n{"cards":[]}')


def test_a_closing_answer_is_sent_before_the_close() -> None:
    request = REQUEST.replace(b"host: a\r\n", b"host: a\r\nconnection: close\r\n")
    writes = _run_alone(_answer(_json_app, request))
    # the whole answer in one write, then the close
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n"), writes
    assert writes[0].endswith(b'{"cards":[]}') and writes[1] == b"<closed>", writes


async def _streamed() -> list[list[bytes]]:
    """A body streamed over loop turns: each part leaves by the next turn, in order."""
    transport = FakeTransport()
    joined = _JoinedWrites(transport, asyncio.get_running_loop())
    seen = []
    joined.write(b"head")
    joined.write(b"part 1")
    seen.append(list(transport.writes))  # held within the turn
    await asyncio.sleep(0)
    seen.append(list(transport.writes))  # sent at the next turn, as one
    joined.write(b"part 2")
    joined.close()
    seen.append(list(transport.writes))  # sent before the close
    joined.write(b"late")
    joined.drop()  # the connection is gone
    await asyncio.sleep(0)
    seen.append(list(transport.writes))
    return seen


def test_nothing_is_held_past_the_next_turn_and_order_is_kept() -> None:
    held, next_turn, closed, gone = _run_alone(_streamed())
    assert held == []
    assert next_turn == [b"headpart 1"]
    assert closed == [b"headpart 1", b"part 2", b"<closed>"]
    assert gone == closed


def test_other_attributes_are_the_transports() -> None:
    transport = FakeTransport()
    joined = _JoinedWrites(transport, asyncio.new_event_loop())
    assert joined.get_extra_info("peername") == ("127.0.0.1", 5000)
    assert joined.is_closing() is False


class _ClockLoop:
    """The running loop with a clock the test moves and timers it holds instead of scheduling
    (`fire` runs those due); everything else (tasks) is the real loop's."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.now = 0.0
        self.timers: list[asyncio.TimerHandle] = []
        self.header_timers_set = 0
        self.timers_set: Counter[str] = Counter()  # by the callback's name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        handle = asyncio.TimerHandle(when, callback, args, self._loop)
        self.timers.append(handle)
        if getattr(callback, "__name__", "") == "_header_time_up":
            self.header_timers_set += 1
        self.timers_set[getattr(callback, "__name__", "")] += 1
        return handle

    def call_soon(self, callback: Any, *args: Any, **kwargs: Any) -> asyncio.Handle:
        self.timers_set["soon " + getattr(callback, "__name__", "")] += 1
        return self._loop.call_soon(callback, *args, **kwargs)

    def call_later(self, delay: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        return self.call_at(self.now + delay, callback, *args)

    def fire(self, now: float) -> None:
        self.now = now
        due = [t for t in self.timers if t.when() <= now and not t.cancelled()]
        self.timers = [t for t in self.timers if t not in due]
        for timer in due:
            timer._run()


def _guarded(
    loop: _ClockLoop, transport: FakeTransport, keep_alive: int = 60
) -> GuardedHttpToolsProtocol:
    # (by default the idle keep-alive timer out of the way of these tests' clock)
    config = Config(
        app=_json_app, lifespan="off", log_level="warning", timeout_keep_alive=keep_alive
    )
    config.load()
    protocol = GuardedHttpToolsProtocol(
        config=config,
        server_state=ServerState(),
        app_state={},
        _loop=loop,  # type: ignore[arg-type]
    )
    protocol._header_timeout = 10
    protocol.connection_made(transport)
    return protocol


async def _one_connections_requests(
    count: int, keep_alive: int = 60
) -> tuple[_ClockLoop, list[bytes], bool | None]:
    """``count`` requests, one after another, on one keep-alive connection: the loop (its
    timers), the writes, and whether the protocol kept its own idle timer."""
    loop = _ClockLoop(asyncio.get_running_loop())
    transport = FakeTransport()
    protocol = _guarded(loop, transport, keep_alive)
    for n in range(count):
        loop.now = float(n)
        protocol.data_received(REQUEST)
        for _ in range(10):
            await asyncio.sleep(0)
    writes = list(transport.writes)
    own = getattr(protocol, "_own_keep_alive", None)
    protocol.connection_lost(None)
    return loop, writes, own


async def _keep_alive_requests(count: int) -> tuple[int, list[bytes]]:
    """``count`` requests, one after another, on one keep-alive connection."""
    loop, writes, _ = await _one_connections_requests(count)
    return loop.header_timers_set, writes


def test_one_header_timer_for_a_keep_alive_connections_requests() -> None:
    """Issue 16: a request no longer sets (and cancels) a header timer of its own: the
    connection's one timer serves them all (20k instructions a request, the heap kept small)."""
    timers, writes = _run_alone(_keep_alive_requests(5))
    assert [w[:15] for w in writes] == [b"HTTP/1.1 200 OK"] * 5
    assert timers == 1


async def _slow_headers_of_a_later_start() -> list[tuple[float, list[bytes]]]:
    loop = _ClockLoop(asyncio.get_running_loop())
    transport = FakeTransport()
    protocol = _guarded(loop, transport)  # connection open at 0: its headers due by 10
    loop.now = 6.0
    protocol.data_received(b"GET / HTTP/1.1\r\nhost: x\r\n")  # starts at 6: due by 16
    seen = []
    for now in (10.0, 15.9, 16.0):
        loop.fire(now)
        seen.append((now, list(transport.writes)))
    return seen


def test_headers_are_due_within_the_timeout_of_the_requests_start() -> None:
    """The deadline moves with each request's start, as when a timer was set per request:
    not refused when the connection's first deadline passes, refused 408 at the request's."""
    (_, at_10), (_, at_15_9), (_, at_16) = _run_alone(_slow_headers_of_a_later_start())
    assert at_10 == [] and at_15_9 == []
    assert at_16[0].startswith(b"HTTP/1.1 408 Request Timeout"), at_16
    assert at_16[-1] == b"<closed>"


async def _headers_in_time_then_idle() -> list[bytes]:
    loop = _ClockLoop(asyncio.get_running_loop())
    transport = FakeTransport()
    protocol = _guarded(loop, transport)
    loop.now = 1.0
    protocol.data_received(REQUEST)
    for _ in range(10):
        await asyncio.sleep(0)
    loop.fire(10.0)  # the connection's header timer: the request's headers came in time
    writes = list(transport.writes)
    protocol.connection_lost(None)
    return writes


def test_a_request_answered_in_time_is_not_refused_when_the_timer_fires() -> None:
    writes = _run_alone(_headers_in_time_then_idle())
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200 OK"), writes


async def _idle_timers(count: int) -> tuple[Counter[str], list[bytes], bool | None]:
    """``count`` requests one after another on one keep-alive connection (idle timeout 5)."""
    loop, writes, own = await _one_connections_requests(count, keep_alive=5)
    return loop.timers_set, writes, own


def test_one_idle_timer_for_a_keep_alive_connections_requests() -> None:
    """Issue 16: a response no longer sets uvicorn's idle timer (call_later) for the next
    request's data to cancel: the connection's one idle timer serves them all (some 20k
    instructions a request)."""
    timers, writes, own = _run_alone(_idle_timers(5))
    assert [w[:15] for w in writes] == [b"HTTP/1.1 200 OK"] * 5
    assert own is True
    assert timers["timeout_keep_alive_handler"] == 0, timers
    assert timers["_keep_alive_time_up"] == 1, timers


async def _idle_close(
    requests_at: tuple[float, ...], fire_at: tuple[float, ...], partial_at: float | None = None
) -> list[tuple[float, bool]]:
    """Requests answered at ``requests_at`` (idle timeout 5), optionally the start of one more
    request at ``partial_at`` (its body never comes); whether the connection is closed when
    the timers due at each of ``fire_at`` have run."""
    loop = _ClockLoop(asyncio.get_running_loop())
    transport = FakeTransport()
    protocol = _guarded(loop, transport, keep_alive=5)
    protocol._header_timeout = 100  # the header timer out of the way
    for at in requests_at:
        loop.now = at
        protocol.data_received(REQUEST)
        for _ in range(10):
            await asyncio.sleep(0)
    if partial_at is not None:
        loop.now = partial_at
        protocol.data_received(REQUEST[:-2])  # the headers, not the body
        for _ in range(10):
            await asyncio.sleep(0)
    seen = []
    for now in fire_at:
        loop.fire(now)
        seen.append((now, transport.closed))
    protocol.connection_lost(None)
    return seen


def test_an_idle_connection_is_closed_the_timeout_after_its_last_response() -> None:
    """uvicorn's keep-alive behaviour kept: closed `timeout_keep_alive` after the last response
    completed, not after the first one's (the deadline moves with each response)."""
    seen = _run_alone(_idle_close((0.0, 3.0), (5.0, 7.9, 8.0)))
    assert seen == [(5.0, False), (7.9, False), (8.0, True)]


def test_a_connection_with_a_request_under_way_is_not_idle() -> None:
    """A request's data clears the idle deadline (uvicorn cancels its timer there): the
    connection is not closed as idle while the request is under way."""
    seen = _run_alone(_idle_close((0.0,), (5.0, 30.0), partial_at=1.0))
    assert seen == [(5.0, False), (30.0, False)]


def test_uvicorns_parts_the_idle_timer_stands_on_are_there() -> None:
    """Fails when a uvicorn upgrade renames or drops what the connection's own idle timer takes
    from its HttpToolsProtocol (`UVICORN_KEEP_ALIVE_PARTS`); the protocol then falls back to
    uvicorn's per-request timer (below) rather than break, but the saving is lost: look at
    uvicorn's `on_response_complete` and bring `GuardedHttpToolsProtocol`'s in line."""
    config = Config(app=_json_app, lifespan="off", log_level="warning")
    protocol = GuardedHttpToolsProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.new_event_loop()
    )
    missing = protocol_module.missing_keep_alive_parts(protocol)
    assert missing == [], f"uvicorn's HttpToolsProtocol no longer has {missing}"
    assert protocol._own_keep_alive is True


def test_without_those_parts_uvicorns_own_idle_timer_is_used(monkeypatch: Any) -> None:
    monkeypatch.setattr(
        protocol_module,
        "UVICORN_KEEP_ALIVE_PARTS",
        (*protocol_module.UVICORN_KEEP_ALIVE_PARTS, "_gone_part"),
    )
    timers, writes, own = _run_alone(_idle_timers(3))
    assert own is False
    assert [w[:15] for w in writes] == [b"HTTP/1.1 200 OK"] * 3
    assert timers["timeout_keep_alive_handler"] == 3, timers  # uvicorn's: one per response
    assert timers["_keep_alive_time_up"] == 0, timers
    assert _run_alone(_idle_close((0.0,), (4.9, 5.0))) == [(4.9, False), (5.0, True)]


def test_a_response_schedules_no_turn_to_send_its_head() -> None:
    """Issue 16: a response's head waits for its body and leaves with it, and the response's
    end sends the rest: no call_soon per response (it found nothing to send, some 10k
    instructions a request)."""
    timers, writes, _ = _run_alone(_idle_timers(5))
    assert [w[:15] for w in writes] == [b"HTTP/1.1 200 OK"] * 5
    assert all(w.endswith(b'\r\n\r\n{"cards":[]}') for w in writes), writes
    assert timers["soon flush"] == 0, timers


async def _streaming_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await asyncio.sleep(0)  # the first part comes a turn after the head
    await send({"type": "http.response.body", "body": b"part 1", "more_body": True})
    await send({"type": "http.response.body", "body": b"part 2", "more_body": True})
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the part before is sent meanwhile, not held for the next one
    await send({"type": "http.response.body", "body": b"part 3", "more_body": False})


async def _streamed_response() -> list[list[bytes]]:
    loop = _ClockLoop(asyncio.get_running_loop())
    transport = FakeTransport()
    protocol = _guarded(loop, transport)
    protocol.app = _streaming_app
    protocol.data_received(REQUEST)
    seen = []
    for _ in range(6):
        await asyncio.sleep(0)
        seen.append(list(transport.writes))
    protocol.connection_lost(None)
    return seen


def test_a_streamed_response_is_not_held_for_its_next_part() -> None:
    """The head leaves with the body's first part; a later part is sent by the next turn, not
    held until the part after it; the order is kept."""
    seen = _run_alone(_streamed_response())
    first = next(w for w in seen if w)
    assert len(first) == 1 and first[0].startswith(b"HTTP/1.1 200 OK\r\n"), first
    assert first[0].endswith(b"\r\n\r\n6\r\npart 1\r\n"), first  # one write: head, part 1
    assert any(w[1:] == [b"6\r\npart 2\r\n"] for w in seen), seen  # before part 3 was written
    assert seen[-1][1:] == [b"6\r\npart 2\r\n", b"6\r\npart 3\r\n0\r\n\r\n"], seen


async def _expecting_continue() -> list[bytes]:
    loop = _ClockLoop(asyncio.get_running_loop())
    transport = FakeTransport()
    protocol = _guarded(loop, transport)
    head = REQUEST[:-2].replace(b"host: a\r\n", b"host: a\r\nexpect: 100-continue\r\n")
    protocol.data_received(head)  # the body is not sent before the "100 Continue"
    for _ in range(5):
        await asyncio.sleep(0)
    writes = list(transport.writes)
    protocol.connection_lost(None)
    return writes


def test_a_100_continue_is_not_held() -> None:
    """The "100 Continue" uvicorn writes before reading the body is not taken for a response's
    head waiting for its body: the client waits for it before sending the body."""
    assert _run_alone(_expecting_continue()) == [b"HTTP/1.1 100 Continue\r\n\r\n"]
