"""CORS for the service: Starlette's CORSMiddleware, its answer to a simple request written on
the raw header list (issue 16).

Starlette's own wraps each request's headers and each answer's headers in its header classes
(about 2% of a CDS call). For the service's policy (any origin, no credentials) the answer to a
request that is not a preflight is fixed: the simple headers set (`Access-Control-Allow-Origin:
*`) when the request has an Origin, and `Origin` added to `Vary` always. That is written here on
the byte pairs, with Starlette's rules for setting a header (the first of its name replaced,
later ones dropped, else appended at the end). Preflights, and any other policy, are Starlette's.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

Message = dict[str, Any]
RawHeaders = list[tuple[bytes, bytes]]


def set_header(headers: RawHeaders, name: bytes, value: bytes) -> None:
    """As Starlette's `MutableHeaders.__setitem__`: the first `name` replaced (later ones
    dropped), or appended. `name` in lower case."""
    found = [i for i, (key, _) in enumerate(headers) if key == name]
    for i in reversed(found[1:]):
        del headers[i]
    if found:
        headers[found[0]] = (name, value)
    else:
        headers.append((name, value))


class ServiceCORS(CORSMiddleware):
    """CORSMiddleware with the simple answer of an any-origin, no-credentials policy written on
    the raw headers; anything else as Starlette answers it."""

    @functools.cached_property
    def _raw_simple(self) -> RawHeaders:
        return [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.simple_headers.items()
        ]

    @functools.cached_property
    def _own_answer(self) -> bool:
        return self.allow_all_origins and not self.allow_credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._own_answer:
            await super().__call__(scope, receive, send)
            return
        has_origin, preflight = origin_and_preflight(scope)
        if preflight:
            await super().__call__(scope, receive, send)  # a preflight: Starlette's answer
            return
        await self.app(scope, receive, functools.partial(self._simple_send, send, has_origin))

    def own_simple_answer(self) -> bool:
        """Does this middleware write the simple answer itself (`add_simple_headers`)?"""
        return self._own_answer

    def add_simple_headers(self, headers: RawHeaders, has_origin: bool) -> None:
        """The simple answer's headers written on an answer's header list (in place)."""
        if has_origin:
            for name, value in self._raw_simple:
                set_header(headers, name, value)
        vary = [value for name, value in headers if name == b"vary"]
        set_header(headers, b"vary", b", ".join([*vary, b"Origin"]))

    async def _simple_send(self, send: Send, has_origin: bool, message: Message) -> None:
        if message["type"] != "http.response.start":
            await send(message)
            return
        headers: RawHeaders = list(message.get("headers") or [])
        self.add_simple_headers(headers, has_origin)
        message["headers"] = headers  # Starlette writes the new list into the message too
        await send(message)


def origin_and_preflight(scope: Scope) -> tuple[bool, bool]:
    """Does the request carry an Origin, and is it a CORS preflight (an OPTIONS with an Origin
    and Access-Control-Request-Method)?"""
    origin: bytes | None = None
    preflight_asked = False
    for name, value in scope["headers"]:
        if name == b"origin":
            if origin is None:
                origin = value
        elif name == b"access-control-request-method":
            preflight_asked = True
    has_origin = origin is not None
    return has_origin, has_origin and scope["method"] == "OPTIONS" and preflight_asked
