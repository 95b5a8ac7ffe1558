"""The CDS service call's middlewares fused into one layer (issue 16 / issue 12 item 5).

A CDS service call crossed five ASGI layers (security headers, the auth-off loopback rule,
request limits, CORS, QuietErrors), each a coroutine frame, and three of them wrapped `send`
in a function of their own that each response message went through (about 10% of a call).
`FusedCdsLane` does the same work in one frame, with the very middleware objects of the app's
stack (their settings, their code): the loopback rule, the body read within the limits, then
the service's answer through one `send` that writes the CORS headers and then the security
headers on the answer's start, as the two layers did one after the other. An answer of the
loopback rule or of the limits gets the security headers only (CORS stood inside them), and an
error in the call is QuietErrors' bare 500, logged by its type only.

It is used only when the stack holds exactly those layers in that order (`fuse`); otherwise
the lane enters the stack's outermost middleware as before.
"""

from __future__ import annotations

import functools
from operator import itemgetter
from typing import Any

from starlette.requests import ClientDisconnect

from earlypath.web.cds import ServiceCalls, service_called
from earlypath.web.cors import ServiceCORS, origin_and_preflight
from earlypath.web.guards import (
    LoopbackOnlyWhenAuthOff,
    QuietErrors,
    SecurityHeaders,
    add_security_headers,
    log_client_gone,
    log_internal_error,
    peer_is_loopback,
    send_internal_error,
    send_not_loopback,
)
from earlypath.web.limits import Message, RequestLimits

RawHeaders = list[tuple[bytes, bytes]]
_name = itemgetter(0)


class FusedCdsLane:
    """The lane's middlewares as one ASGI layer, for CDS service calls only."""

    def __init__(
        self,
        stack: Any,
        headers: SecurityHeaders,
        loopback_only: bool,
        limits: RequestLimits,
        cors: ServiceCORS,
        calls: ServiceCalls,
    ):
        self.app = stack  # the middlewares it stands for, outermost first (benchmarks walk it)
        self.headers = headers
        self.loopback_only = loopback_only
        self.limits = limits
        self.cors = cors
        self.calls = calls
        # per (service path, request has an Origin): the headers the two layers add to an answer
        # that sets none of them itself, and their names (`_headers_added`)
        self._added: dict[tuple[str, bool], tuple[RawHeaders, frozenset[bytes]]] = {}

    def _headers_added(self, path: str, has_origin: bool) -> tuple[RawHeaders, frozenset[bytes]]:
        key = (path, has_origin)
        added = self._added.get(key)
        if added is None:
            # what CORS then the security headers write on an answer with no header at all:
            # the same on any answer that sets none of these names (each is appended, in order)
            headers: RawHeaders = []
            self.cors.add_simple_headers(headers, has_origin)
            add_security_headers(headers, self.headers.extra_for(path))
            added = self._added[key] = (headers, frozenset(name for name, _ in headers))
        return added

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        service = service_called(scope)
        if service is None:  # not a service call: the stack as usual
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = self.headers.extra_for(path)
        if self.loopback_only and not peer_is_loopback(scope):
            await send_not_loopback(functools.partial(_secured_send, send, extra))
            return
        read = await self.limits.read_request(
            scope, receive, functools.partial(_secured_send, send, extra)
        )
        if read is None:
            return
        scope, body = read
        has_origin = origin_and_preflight(scope)[0]  # a POST is never a preflight
        added, added_names = self._headers_added(path, has_origin)
        add_cors_headers = self.cors.add_simple_headers
        started = False

        async def answer_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                # (Starlette's answers name their headers in bytes)
                if added_names.isdisjoint(map(bytes.lower, map(_name, headers))):
                    headers += added  # the usual answer: none of those names set by the service
                else:
                    add_cors_headers(headers, has_origin)
                    add_security_headers(headers, extra)
                message["headers"] = headers
            await send(message)

        try:
            # the body is read: later receives go to the server's, as after `RequestLimits`' replay
            await self.calls.respond(service, scope, receive, answer_send, body)
        except ClientDisconnect:
            log_client_gone(scope)
        except Exception as error:  # noqa: BLE001 - the last line of defence, as QuietErrors
            log_internal_error(error, scope)
            if not started:
                await send_internal_error(answer_send)


async def _secured_send(
    send: Any, extra: tuple[tuple[bytes, bytes], ...], message: Message
) -> None:
    """`send` with the security headers on the answer's start, as `SecurityHeaders` writes them."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers") or [])
        add_security_headers(headers, extra)
        message = {**message, "headers": headers}
    await send(message)


def fuse(outermost: Any) -> FusedCdsLane | None:
    """The fused lane for a middleware stack that is, from ``outermost`` in: SecurityHeaders,
    LoopbackOnlyWhenAuthOff (with auth off), RequestLimits, ServiceCORS (writing its own simple
    answer), QuietErrors, ServiceCalls; None for any other stack."""
    layers: list[Any] = []
    layer = outermost
    while layer is not None and len(layers) < 6:
        layers.append(layer)
        if type(layer) is ServiceCalls:
            break
        layer = getattr(layer, "app", None)
    kinds = [type(layer) for layer in layers]
    loopback_only = LoopbackOnlyWhenAuthOff in kinds
    expected = [SecurityHeaders, RequestLimits, ServiceCORS, QuietErrors, ServiceCalls]
    if loopback_only:
        expected.insert(1, LoopbackOnlyWhenAuthOff)
    if kinds != expected:
        return None
    headers, *_, limits, cors, _quiet, calls = layers
    if not cors.own_simple_answer():
        return None
    return FusedCdsLane(outermost, headers, loopback_only, limits, cors, calls)
