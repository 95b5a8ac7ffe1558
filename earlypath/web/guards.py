"""Response headers and the auth-off rule, for every request whatever server runs the app.

- Security headers on every response: a Content-Security-Policy with no 'unsafe-inline' on the
  pages (their two inline bits, the print button's handler and one style attribute, are allowed
  by hash), X-Frame-Options DENY and frame-ancestors 'none', Referrer-Policy no-referrer,
  X-Content-Type-Options nosniff, Cache-Control no-store (answers carry clinical data), and HSTS
  when the public URL is https. A route may set its own CSP (the impact page allows its inline
  style by hash); /docs and /redoc (Swagger UI, ReDoc) need inline script and their CDN.
- With CDS auth off, only loopback clients are served: the rule `earlypath serve` applies to the
  listening address holds even when uvicorn or another server is started directly.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import ipaddress
import logging
import re
from typing import Any

from starlette.requests import ClientDisconnect

from earlypath.web.limits import Message, send_error

log = logging.getLogger("earlypath.web")


def csp_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline script or style."""
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


# The pages' only inline code: onclick="window.print()" and style="display:inline".
PAGE_INLINE_SCRIPTS = ("window.print()",)
PAGE_INLINE_STYLES = ("display:inline",)


_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')


def inline_styles(page: str) -> tuple[str, ...]:
    """The inline styles of a page we generate ourselves (no user input), to allow by hash."""
    found = _STYLE_ELEMENT.findall(page)
    found += [html.unescape(value) for value in _STYLE_ATTRIBUTE.findall(page)]
    return tuple(dict.fromkeys(found))


def page_csp(styles: tuple[str, ...] = ()) -> str:
    script_hashes = " ".join(csp_hash(s) for s in PAGE_INLINE_SCRIPTS)
    style_hashes = " ".join(csp_hash(s) for s in PAGE_INLINE_STYLES + styles)
    return (
        "default-src 'none'; "
        f"script-src 'self' 'unsafe-hashes' {script_hashes}; "
        f"style-src 'self' 'unsafe-hashes' {style_hashes}; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; connect-src 'self'; worker-src blob:; "
    "base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response (a route's CSP wins)."""

    def __init__(self, app: Any, *, https: bool = False):
        self.app = app
        self.page_csp = page_csp().encode()
        self.https = https
        # the headers added, per (docs page, static file): built once, not on every answer
        self._extra = {
            (docs, static): self._headers(DOCS_CSP.encode() if docs else self.page_csp, static)
            for docs in (False, True)
            for static in (False, True)
        }

    def _headers(self, csp: bytes, static: bool) -> tuple[tuple[bytes, bytes], ...]:
        extra = [
            (b"content-security-policy", csp),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cache-control", b"no-cache" if static else b"no-store"),
        ]
        if self.https:
            extra.append((b"strict-transport-security", b"max-age=31536000"))
        return tuple(extra)

    def extra_for(self, path: str) -> tuple[tuple[bytes, bytes], ...]:
        """The headers added to an answer on ``path``."""
        return self._extra[path.startswith(DOCS_PATHS), path.startswith("/static/")]

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.extra_for(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                add_security_headers(headers, extra)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def add_security_headers(
    headers: list[tuple[bytes, bytes]], extra: tuple[tuple[bytes, bytes], ...]
) -> None:
    """Append to ``headers`` each of ``extra`` whose name the answer does not set itself."""
    names = {name.lower() for name, _ in headers}
    headers += [(name, value) for name, value in extra if name not in names]


# Starlette's in-process TestClient names its peer "testclient" and itself "testserver"; a real
# server puts socket addresses there.
_IN_PROCESS_CLIENTS = frozenset({"testclient"})


@functools.lru_cache(maxsize=256)  # addresses repeat (keep-alive, a few EHR gateways)
def is_loopback_client(host: str | None, server: str | None = None) -> bool:
    """Is the peer on this machine? `server` is our own address (from the socket, not Host)."""
    if host is None:
        return False
    if host in _IN_PROCESS_CLIENTS:
        return server == "testserver"  # both placeholders: only the in-process transport
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def peer_is_loopback(scope: Message) -> bool:
    """Is the request's peer on this machine (`is_loopback_client` of the scope's addresses)?"""
    client, server = scope.get("client"), scope.get("server")
    return is_loopback_client(client[0] if client else None, server[0] if server else None)


async def send_not_loopback(send: Any) -> None:
    """The 403 `LoopbackOnlyWhenAuthOff` answers an HTTP request from another machine."""
    await send_error(send, 403, "CDS auth is off: this service answers loopback only", close=False)


class LoopbackOnlyWhenAuthOff:
    """ASGI middleware (only installed with CDS auth off): 403 for any non-loopback client."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and not peer_is_loopback(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send_not_loopback(send)
            return
        await self.app(scope, receive, send)


def log_internal_error(error: BaseException, scope: Message) -> None:
    """Log an unexpected error by its type only (its message may echo input values)."""
    log.error(
        "internal error (%s) on %s %s",
        type(error).__name__,
        scope.get("method"),
        scope.get("path"),
    )


def log_client_gone(scope: Message) -> None:
    """The client went away mid-request: nothing to answer, and not our error."""
    log.info("client disconnected on %s %s", scope.get("method"), scope.get("path"))


class QuietErrors:
    """Turns an unexpected exception into a bare 500 and logs only its type.

    Exception messages can carry input values (a pydantic error echoes its input), so neither
    the message nor the traceback is logged: patient data never reaches the log.
    """

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log_client_gone(scope)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            log_internal_error(error, scope)
            if not started:
                await send_internal_error(send)


async def send_internal_error(send: Any) -> None:
    """The bare 500 `QuietErrors` answers."""
    await send_error(send, 500, "internal error", field="(server)", close=False)
