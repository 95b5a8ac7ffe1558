"""The guarded protocol sends a response's head and body in one write (issue 16), and holds
nothing longer than the event loop's next turn: before a close, in order, dropped once the
connection is gone."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

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
