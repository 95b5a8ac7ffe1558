"""CDS Hooks 2.0 client authentication: a signed JWT on every call.

Checks, in order: a Bearer token; header alg RS384 or ES384 with a kid; `iss` on the allow-list;
the key from the issuer's JWKS (a file, inline, a configured URL, or the header `jku` when that
URL is allow-listed for the issuer); signature; `aud` equal to the URL called; `exp` (and `iat`)
present and valid; `jti` present and not seen before (kept until the token expires).
Any failure is a 401 with no detail. Log lines name the kind of failure only: never the token,
its claims, or anything about the patient.

Allow-list file (EARLYPATH_CDS_ISSUERS)::

    {"issuers": [{"iss": "https://ehr.example.org",
                  "jwks_file": "ehr-jwks.json" | "jwks": {...} | "jwks_url": "https://...",
                  "jku": ["https://ehr.example.org/jwks.json"]}]}
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("earlypath.web.security")

ALGORITHMS = ("RS384", "ES384")
LEEWAY_SECONDS = 30
JWKS_TTL_SECONDS = 300


class AuthError(Exception):
    """A token was refused; `kind` is a short, data-free label for the log."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass
class Issuer:
    iss: str
    jwks: dict[str, Any] | None = None
    jwks_url: str | None = None
    jku: tuple[str, ...] = ()


@dataclass
class IssuerRegistry:
    """The allow-list of CDS clients and their keys."""

    issuers: dict[str, Issuer] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path) -> IssuerRegistry:
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        issuers = {}
        for item in data.get("issuers", []):
            jwks = item.get("jwks")
            if item.get("jwks_file"):
                jwks_path = Path(item["jwks_file"])
                if not jwks_path.is_absolute():
                    jwks_path = path.parent / jwks_path
                jwks = json.loads(jwks_path.read_text(encoding="utf-8"))
            issuers[item["iss"]] = Issuer(
                iss=item["iss"],
                jwks=jwks,
                jwks_url=item.get("jwks_url"),
                jku=tuple(item.get("jku", ())),
            )
        return cls(issuers)


class ReplayCache:
    """Seen (iss, jti) pairs, each kept until its token's expiry."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def check_and_add(self, iss: str, jti: str, exp: float) -> bool:
        """True if new (and now remembered); False if this jti was already used."""
        now = time.time()
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {k: v for k, v in self._seen.items() if v + LEEWAY_SECONDS > now}
            key = (iss, jti)
            expiry = self._seen.get(key)
            if expiry is not None and expiry + LEEWAY_SECONDS > now:
                return False
            self._seen[key] = exp
            return True


class JWKSFetcher:
    """Fetches JWK Sets from URLs (allow-listed only), caching each for a few minutes."""

    def __init__(self, transport: httpx.BaseTransport | None = None):
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._transport = transport
        self._lock = threading.Lock()

    def get(self, url: str) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            hit = self._cache.get(url)
            if hit and hit[0] > now:
                return hit[1]
        try:
            with httpx.Client(timeout=5.0, transport=self._transport) as client:
                response = client.get(url)
                response.raise_for_status()
                jwks = response.json()
        except (httpx.HTTPError, ValueError):
            raise AuthError("jwks fetch failed") from None
        with self._lock:
            self._cache[url] = (now + JWKS_TTL_SECONDS, jwks)
        return jwks


class Verifier:
    """Verifies CDS Hooks JWTs against the allow-list."""

    def __init__(
        self,
        registry: IssuerRegistry,
        *,
        jwks_transport: httpx.BaseTransport | None = None,
    ):
        self.registry = registry
        self.replay = ReplayCache()
        self.fetcher = JWKSFetcher(jwks_transport)

    def _key_for(self, issuer: Issuer, header: dict[str, Any]) -> Any:
        jku = header.get("jku")
        if jku is not None:
            if jku not in issuer.jku:
                raise AuthError("jku not allowed")
            jwks = self.fetcher.get(jku)
        elif issuer.jwks is not None:
            jwks = issuer.jwks
        elif issuer.jwks_url:
            jwks = self.fetcher.get(issuer.jwks_url)
        else:
            raise AuthError("no keys for issuer")
        kid = header.get("kid")
        for key in jwks.get("keys", []):
            if key.get("kid") == kid:
                try:
                    return jwt.PyJWK(key, algorithm=header["alg"]).key
                except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError):
                    raise AuthError("bad key") from None
        raise AuthError("unknown kid")

    def verify(self, token: str, audience: str | list[str]) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError("algorithm not allowed")
        if not header.get("kid"):
            raise AuthError("no kid")
        if header.get("typ") not in (None, "JWT", "jwt"):
            raise AuthError("wrong typ")
        iss = unverified.get("iss")
        issuer = self.registry.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError("issuer not allowed")
        key = self._key_for(issuer, header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=audience,
                issuer=issuer.iss,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("wrong audience") from None
        except jwt.PyJWTError:
            raise AuthError("invalid token") from None
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise AuthError("no jti")
        if not self.replay.check_and_add(issuer.iss, claims["jti"], float(claims["exp"])):
            raise AuthError("replayed jti")
        return claims


def unauthorized() -> HTTPException:
    return HTTPException(status_code=401, detail=None, headers={"WWW-Authenticate": "Bearer"})


def service_url(request: Request, public_url: str | None) -> str:
    """The URL the client called (the JWT audience), without query string."""
    if public_url:
        return public_url + request.url.path
    return str(request.url.replace(query="", fragment="")).rstrip("/")


async def require_cds_client(request: Request) -> None:
    """FastAPI dependency: the CDS Hooks JWT check (a no-op when auth is off)."""
    state = request.app.state
    if not state.settings.auth:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        log.warning("cds auth refused: no bearer token")
        raise unauthorized()
    url = service_url(request, state.settings.public_url)
    audiences = [url]
    if url.endswith("/feedback"):
        audiences.append(url.removesuffix("/feedback"))
    verifier: Verifier | None = state.verifier
    if verifier is None:
        log.warning("cds auth refused: no issuers configured (EARLYPATH_CDS_ISSUERS)")
        raise unauthorized()
    try:
        # In a worker thread: a JWKS may have to be fetched over the network.
        await run_in_threadpool(verifier.verify, token.strip(), audiences)
    except AuthError as error:
        log.warning("cds auth refused: %s", error.kind)
        raise unauthorized() from None
