"""Getting the FHIR data a CDS service needs: from prefetch, else from the client's FHIR server.

If a required prefetch key is absent and the data cannot be fetched (no fhirServer, or the
fetch fails), `DataUnavailable` is raised and the service answers 412, as CDS Hooks asks.
A key sent as null means "no data" (an empty result), not "missing".
Nothing here logs URLs, tokens or resources.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import httpx

MAX_PAGES = 10
TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z0-9_]+)\s*\}\}")


class DataUnavailable(Exception):
    """Required FHIR data is neither prefetched nor fetchable; `kind` is data-free."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def fill_template(template: str, context: dict[str, Any]) -> str:
    """Replace {{context.x}} tokens; a token with no primitive value makes the data unavailable."""

    def sub(match: re.Match[str]) -> str:
        value = context.get(match.group(1))
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            raise DataUnavailable("prefetch token has no value in context")
        return str(value)

    return TOKEN.sub(sub, template)


async def _fetch(
    client: httpx.AsyncClient, base: str, relative: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    url = urljoin(base.rstrip("/") + "/", relative)
    out: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        try:
            response = await client.get(url, headers=headers)
        except httpx.HTTPError:
            raise DataUnavailable("fhir server unreachable") from None
        if response.status_code == 404 and "?" not in relative:
            return out  # a read of a resource that does not exist: no data
        if response.status_code != 200:
            raise DataUnavailable(f"fhir server answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise DataUnavailable("fhir server sent non-JSON") from None
        if not isinstance(body, dict):
            raise DataUnavailable("fhir server sent non-resource")
        out.append(body)
        next_url = next(
            (link.get("url") for link in body.get("link") or [] if link.get("relation") == "next"),
            None,
        )
        if body.get("resourceType") != "Bundle" or not next_url:
            return out
        url = next_url
    return out


async def gather(
    templates: dict[str, str],
    required: tuple[str, ...],
    request: dict[str, Any],
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[dict[str, Any]]:
    """All resources for the required prefetch keys (prefetched or fetched), in key order."""
    prefetch = request.get("prefetch") if isinstance(request.get("prefetch"), dict) else {}
    context = request.get("context") if isinstance(request.get("context"), dict) else {}
    resources: list[dict[str, Any]] = []
    to_fetch: list[str] = []
    for key in templates:
        if key in prefetch:
            value = prefetch[key]
            if isinstance(value, dict):
                resources.append(value)
            elif isinstance(value, list):
                resources.extend(v for v in value if isinstance(v, dict))
        else:
            to_fetch.append(key)
    server = request.get("fhirServer")
    has_server = isinstance(server, str) and server.startswith(("http://", "https://"))
    if not has_server:
        if any(key in required for key in to_fetch):
            raise DataUnavailable("prefetch missing and no fhirServer")
        return resources
    if not to_fetch:
        return resources
    headers = {"Accept": "application/fhir+json"}
    auth = request.get("fhirAuthorization")
    if isinstance(auth, dict) and isinstance(auth.get("access_token"), str):
        headers["Authorization"] = f"Bearer {auth['access_token']}"
    async with httpx.AsyncClient(timeout=5.0, transport=transport) as client:
        for key in to_fetch:
            try:
                relative = fill_template(templates[key], context)
                resources.extend(await _fetch(client, server, relative, headers))  # type: ignore[arg-type]
            except DataUnavailable:
                if key in required:
                    raise
                # optional data (the Patient, allergies): go on without it
    return resources
