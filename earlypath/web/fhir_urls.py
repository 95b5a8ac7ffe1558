"""The CDS client's FHIR server: building query URLs and deciding which URLs may get the token.

The bearer token in `fhirAuthorization` is scoped to the `fhirServer` the client named. A URL is
"under" that base only if, after normalisation, it has the same scheme, host and port, no user
info, and a path equal to the base path or below it at a segment boundary (so `/fhir-evil` is not
under `/fhir`). Anything else (a `next` link to another host, `..` tricks, encoded separators) is
refused, and nothing is sent to it, with or without the token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

# FHIR R4 `id` (http://hl7.org/fhir/R4/datatypes.html#id).
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z0-9_]+)\s*\}\}")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Percent-encoded dots, slashes and backslashes in a path could be decoded by the server into
# traversal the check did not see; real FHIR servers never put them in a page link.
ENCODED_SEPARATOR = re.compile(r"%2e|%2f|%5c", re.IGNORECASE)
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")


class TemplateUnfillable(ValueError):
    """A prefetch template names a context value the request does not have (data-free)."""


def is_fhir_id(value: Any) -> bool:
    """Is `value` a valid FHIR id, usable as one path segment (so not `.` or `..`)?"""
    return (
        isinstance(value, str) and FHIR_ID.fullmatch(value) is not None and value.strip(".") != ""
    )


def remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: resolve `.` and `..` segments of an absolute path."""
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
            continue
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
            continue
        out.append(segment)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


@dataclass(frozen=True)
class _Parts:
    scheme: str
    host: str
    port: int
    path: str
    query: str

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _split(url: str) -> _Parts | None:
    """The normalised parts of an absolute http(s) URL, or None if it is not one we can trust."""
    if not isinstance(url, str) or UNSAFE_CHARACTERS.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    if ENCODED_SEPARATOR.search(parts.path):
        return None
    return _Parts(
        scheme=scheme,
        host=parts.hostname.lower(),
        port=port if port is not None else DEFAULT_PORTS[scheme],
        path=remove_dot_segments(parts.path or "/"),
        query=parts.query,
    )


def fill(text: str, context: dict[str, Any]) -> str:
    """Replace {{context.x}} tokens; a token with no primitive value cannot be filled."""

    def sub(match: re.Match[str]) -> str:
        value = context.get(match.group(1))
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            raise TemplateUnfillable("prefetch token has no value in context")
        return str(value)

    return TOKEN.sub(sub, text)


def expected_type(template: str) -> str:
    """The resource type a prefetch template asks for (`Condition?...` -> Condition)."""
    return template.split("?", 1)[0].split("/", 1)[0]


def is_read(template: str) -> bool:
    """Is the template a read of one resource (`Patient/{{context.patientId}}`), not a search?"""
    return "?" not in template and "/" in template


@dataclass(frozen=True)
class FhirBase:
    """A normalised `fhirServer` base URL."""

    scheme: str
    host: str
    port: int
    path: str  # no trailing slash; "" for the server root

    @classmethod
    def parse(cls, server: Any) -> FhirBase | None:
        """The base, or None if `server` is not an absolute http(s) URL without user info,
        query or fragment."""
        if not isinstance(server, str) or "?" in server or "#" in server:
            return None
        parts = _split(server)
        if parts is None:
            return None
        return cls(parts.scheme, parts.host, parts.port, parts.path.rstrip("/"))

    @property
    def url(self) -> str:
        netloc = _Parts(self.scheme, self.host, self.port, "", "").netloc
        return urlunsplit((self.scheme, netloc, self.path, "", ""))

    def admits(self, url: str) -> str | None:
        """`url` normalised if it is under this base (it may get the token), else None."""
        parts = _split(url)
        if parts is None or (parts.scheme, parts.host, parts.port) != (
            self.scheme,
            self.host,
            self.port,
        ):
            return None
        # A segment boundary: `/fhir` admits `/fhir` and `/fhir/...`, never `/fhir-evil`.
        if not (parts.path == self.path or parts.path.startswith(self.path + "/")):
            return None
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))

    def resolve(self, link: Any) -> str | None:
        """A page link (absolute, or relative to the base) normalised if under this base."""
        if not isinstance(link, str) or not link:
            return None
        return self.admits(urljoin(self.url + "/", link))

    def query(self, template: str, context: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
        """The URL and encoded search parameters for a prefetch template.

        Each path segment and each parameter is filled and encoded on its own, so a context value
        can neither add a path segment nor a search parameter.
        """
        path, _, search = template.partition("?")
        segments = []
        for raw in path.split("/"):
            segment = fill(raw, context)
            if segment in ("", ".", ".."):
                raise TemplateUnfillable("prefetch template gives an unsafe path")
            segments.append(quote(segment, safe=""))
        params = []
        for pair in filter(None, search.split("&")):
            # unquote, not unquote_plus: a "+" in a template is a plus (a time zone), not a space
            name, _, value = (unquote(part) for part in pair.partition("="))
            params.append((fill(name, context), fill(value, context)))
        return f"{self.url}/{'/'.join(segments)}", params
