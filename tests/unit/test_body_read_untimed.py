"""`RequestLimits` reads a body that is already in without arming the body timer (issue 12
item 5: `asyncio.timeout` was about 2% of a CDS call), and still bounds every body that has to
be waited for: 408 when it does not come in time, 413 over the size, nothing answered when the
client goes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from earlypath.web import limits
from earlypath.web.limits import RequestLimits
from tests.async_run import run_coroutine

Message = dict[str, Any]


def _limits(app: Any, timeout: float = 5.0, max_bytes: int = 1000) -> RequestLimits:
    return RequestLimits(app, max_body_bytes=max_bytes, body_timeout=timeout, max_json_depth=64)


def _scope() -> Message:
    return {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": [(b"content-type", b"application/json")],
        "extensions": {limits.GUARDED_HTTP: {}},
    }


async def _run(receive: Any, timeout: float = 5.0, max_bytes: int = 1000) -> tuple[Any, Any]:
    """(the body the app read, the status answered) for one request."""
    seen: list[bytes] = []
    status: list[int] = []

    async def app(scope: Message, receive: Any, send: Any) -> None:
        seen.append((await receive())["body"])

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await _limits(app, timeout, max_bytes)(_scope(), receive, send)
    return (seen[0] if seen else None), (status[0] if status else None)


def _no_timer(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    armed: list[float] = []
    real = asyncio.timeout

    def noted(delay: float | None) -> Any:
        armed.append(delay or 0.0)
        return real(delay)

    monkeypatch.setattr(limits.asyncio, "timeout", noted)
    return armed


def test_a_body_already_in_is_read_without_a_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    armed = _no_timer(monkeypatch)

    async def receive() -> Message:  # the server has the whole body: no wait
        return {"type": "http.request", "body": b'{"a": 1}', "more_body": False}

    assert run_coroutine(_run(receive)) == (b'{"a": 1}', None)
    assert armed == []


def test_a_body_that_must_be_waited_for_is_read_under_the_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    armed = _no_timer(monkeypatch)

    async def receive() -> Message:
        await asyncio.sleep(0.01)  # not there yet
        return {"type": "http.request", "body": b"[1, 2]", "more_body": False}

    assert run_coroutine(_run(receive)) == (b"[1, 2]", None)
    assert armed == [5.0]


def test_a_body_that_does_not_come_is_408() -> None:
    async def receive() -> Message:
        await asyncio.sleep(60)
        return {"type": "http.request", "body": b"", "more_body": False}

    assert run_coroutine(_run(receive, timeout=0.05)) == (None, 408)


def test_a_body_whose_rest_does_not_come_is_408() -> None:
    messages = iter([{"type": "http.request", "body": b"{", "more_body": True}])

    async def receive() -> Message:
        for message in messages:
            return message
        await asyncio.sleep(60)
        return {"type": "http.request", "body": b"}", "more_body": False}

    assert run_coroutine(_run(receive, timeout=0.05)) == (None, 408)


def test_a_body_in_several_messages_is_joined() -> None:
    messages = iter(
        [
            {"type": "http.request", "body": b"[1,", "more_body": True},
            {"type": "http.request", "body": b" 2]", "more_body": False},
        ]
    )

    async def receive() -> Message:
        return next(messages)

    assert run_coroutine(_run(receive)) == (b"[1, 2]", None)


@pytest.mark.parametrize("wait", [False, True])
def test_too_large_is_413_and_a_client_gone_is_not_answered(wait: bool) -> None:
    async def large() -> Message:
        if wait:
            await asyncio.sleep(0.01)
        return {"type": "http.request", "body": b"x" * 1001, "more_body": False}

    async def gone() -> Message:
        if wait:
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    assert run_coroutine(_run(large)) == (None, 413)
    assert run_coroutine(_run(gone)) == (None, None)


def test_a_receive_that_is_not_a_coroutine_is_awaited() -> None:
    def receive() -> asyncio.Future[Message]:
        done = asyncio.get_running_loop().create_future()
        done.set_result({"type": "http.request", "body": b"{}", "more_body": False})
        return done

    assert run_coroutine(_run(receive)) == (b"{}", None)


def test_an_error_in_receive_is_raised_as_before() -> None:
    async def broken() -> Message:
        raise RuntimeError("receive failed")

    async def broken_later() -> Message:
        await asyncio.sleep(0.01)
        raise RuntimeError("receive failed")

    for receive in (broken, broken_later):
        with pytest.raises(RuntimeError, match="receive failed"):
            run_coroutine(_run(receive))
