"""CDS Hooks 2.0 client authentication: a signed JWT on every call.

Checks, in order (cheap ones first, so a forged token costs little): a Bearer token; header alg
RS384 or ES384 with a kid; `iss` on the allow-list; `exp`, `iat` (and `nbf`) whole numbers in a
sane range, a lifetime of at most 5 minutes and not expired, within the allowed clock skew; `jti`
present; the key from the issuer's JWKS (a file, inline, a configured URL, or the header `jku`
when that URL is allow-listed for the issuer); signature; `aud` equal to EARLYPATH_PUBLIC_URL
plus the path called (never the request's own Host or X-Forwarded-* headers); `jti` not used
before, by any worker, since any restart (`earlypath.web.replay`).
Any failure is a 401 with no detail. Log lines name the kind of failure only: never the token,
its claims, or anything about the patient.

Key sets fetched over the network are cached for 5 minutes; a failed fetch is not retried before
a back-off (10 s, doubling to 5 minutes), and concurrent requests share one fetch, so forged
tokens cannot make the service hammer a key host.

Allow-list file (EARLYPATH_CDS_ISSUERS), checked at start (a malformed file stops the start)::

    {"issuers": [{"iss": "https://ehr.example.org",
                  "jwks_file": "ehr-jwks.json" | "jwks": {...} | "jwks_url": "https://...",
                  "jku": ["https://ehr.example.org/jwks.json"]}]}
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from earlypath.web.config import ConfigError
from earlypath.web.database import open_engine
from earlypath.web.replay import ReplayStore, ReplayStoreError

log = logging.getLogger("earlypath.web.security")

ALGORITHMS = ("RS384", "ES384")
DEFAULT_CLOCK_SKEW_SECONDS = 30
# CDS Hooks: "exp" no more than 5 minutes after issue.
MAX_TOKEN_LIFETIME_SECONDS = 300
# A timestamp outside 2000-01-01 .. 2100-01-01 is refused as malformed.
EARLIEST_TIMESTAMP = 946_684_800
LATEST_TIMESTAMP = 4_102_444_800
MAX_JTI_LENGTH = 256

JWKS_TTL_SECONDS = 300
JWKS_MIN_BACKOFF_SECONDS = 10
JWKS_MAX_BACKOFF_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 5.0
JWKS_MAX_BYTES = 262_144
# Calls that may wait for a key-set fetch in flight; more are refused at once.
JWKS_MAX_WAITERS = 16


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


_ISSUER_FIELDS = {"iss", "jwks", "jwks_file", "jwks_url", "jku"}


def _is_loopback_host(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _check_key_url(url: Any, where: str) -> str:
    """A key-set URL: https, or http on loopback only (local testing)."""
    if not isinstance(url, str):
        raise ConfigError(f"{where} must be a URL string")
    parts = urlsplit(url)
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and _is_loopback_host(parts.hostname))
    ):
        raise ConfigError(f"{where} must be an https URL (http only on loopback)")
    return url


def check_jwks(jwks: Any, where: str) -> dict[str, Any]:
    """A JWK Set whose every key can be loaded, or ConfigError naming the one that cannot."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ConfigError(f'{where} must be a JWK Set: {{"keys": [...]}}')
    for k, key in enumerate(jwks["keys"]):
        if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
            raise ConfigError(f"{where}.keys[{k}] must be a JWK with a kid")
        try:
            jwt.PyJWK(key)
        except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError, TypeError):
            raise ConfigError(f"{where}.keys[{k}] is not a usable public key") from None
    return jwks


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{what}: cannot read {path}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{what}: {path} is not valid JSON ({error})") from None


def _issuer_from(item: Any, where: str, folder: Path) -> Issuer:
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be an object")
    unknown = sorted(set(item) - _ISSUER_FIELDS)
    if unknown:
        raise ConfigError(
            f"{where} has unknown field(s) {unknown}; allowed: {sorted(_ISSUER_FIELDS)}"
        )
    iss = item.get("iss")
    if not isinstance(iss, str) or not iss:
        raise ConfigError(f"{where}.iss is required (the client's issuer URL)")
    sources = [name for name in ("jwks", "jwks_file", "jwks_url") if name in item]
    if len(sources) > 1:
        raise ConfigError(f"{where} must give one of jwks, jwks_file, jwks_url, not {sources}")
    jku = item.get("jku", [])
    if not isinstance(jku, list):
        raise ConfigError(f"{where}.jku must be a list of URLs")
    jku = [_check_key_url(url, f"{where}.jku[{i}]") for i, url in enumerate(jku)]
    if not sources and not jku:
        raise ConfigError(f"{where} has no keys: give jwks, jwks_file, jwks_url or jku")
    jwks = None
    if "jwks" in item:
        jwks = check_jwks(item["jwks"], f"{where}.jwks")
    elif "jwks_file" in item:
        if not isinstance(item["jwks_file"], str):
            raise ConfigError(f"{where}.jwks_file must be a file name")
        jwks_path = Path(item["jwks_file"])
        if not jwks_path.is_absolute():
            jwks_path = folder / jwks_path
        jwks = check_jwks(_read_json(jwks_path, f"{where}.jwks_file"), f"{where}.jwks_file")
    jwks_url = None
    if "jwks_url" in item:
        jwks_url = _check_key_url(item["jwks_url"], f"{where}.jwks_url")
    return Issuer(iss=iss, jwks=jwks, jwks_url=jwks_url, jku=tuple(jku))


@dataclass
class IssuerRegistry:
    """The allow-list of CDS clients and their keys."""

    issuers: dict[str, Issuer] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path) -> IssuerRegistry:
        """Read and check the allow-list; ConfigError naming the entry and field at fault."""
        path = Path(path)
        what = "EARLYPATH_CDS_ISSUERS"
        data = _read_json(path, what)
        if not isinstance(data, dict) or not isinstance(data.get("issuers"), list):
            raise ConfigError(f'{what}: {path} must be {{"issuers": [...]}}')
        issuers: dict[str, Issuer] = {}
        for i, item in enumerate(data["issuers"]):
            issuer = _issuer_from(item, f"{what} issuers[{i}]", path.parent)
            if issuer.iss in issuers:
                raise ConfigError(f"{what} issuers[{i}].iss is listed twice")
            issuers[issuer.iss] = issuer
        return cls(issuers)


@dataclass
class _KeySetState:
    """One key-set URL: the last good set, and when a failed fetch may be retried."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    jwks: dict[str, Any] | None = None
    fresh_until: float = 0.0
    retry_at: float = 0.0
    backoff: float = 0.0
    waiters: int = 0  # calls waiting for the fetch in flight


class JWKSFetcher:
    """Fetches JWK Sets from allow-listed URLs: cached, failures cached, one fetch at a time.

    A good set is kept `JWKS_TTL_SECONDS`. A failed fetch is not retried for a back-off that
    starts at `JWKS_MIN_BACKOFF_SECONDS` and doubles up to `JWKS_MAX_BACKOFF_SECONDS`; calls
    meanwhile are refused at once. Calls arriving during a refresh use the keys it replaces; with
    no keys yet they wait for the fetch and share its result (at most JWKS_MAX_WAITERS of them;
    more are refused at once, so a burst cannot hold every worker thread).
    """

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = JWKS_TIMEOUT_SECONDS,
    ):
        self._transport = transport
        self._clock = clock
        self._timeout = timeout
        self._states: dict[str, _KeySetState] = {}
        self._states_lock = threading.Lock()

    def _state(self, url: str) -> _KeySetState:
        # URLs come from the allow-list only, so this dict stays small.
        with self._states_lock:
            return self._states.setdefault(url, _KeySetState())

    def _cached(self, state: _KeySetState) -> dict[str, Any] | None:
        now = self._clock()
        if state.jwks is not None and now < state.fresh_until:
            return state.jwks
        if now < state.retry_at:
            raise AuthError("jwks fetch failed recently (backing off)")
        return None

    def get(self, url: str) -> dict[str, Any]:
        state = self._state(url)
        cached = self._cached(state)
        if cached is not None:
            return cached
        if not state.lock.acquire(blocking=False):
            # A refresh is in flight: the keys it replaces are still good for these few seconds.
            if state.jwks is not None:
                return state.jwks
            if not self._wait_for_fetch(state):
                raise AuthError("jwks fetch busy")
        try:
            cached = self._cached(state)  # another call may have fetched while this one waited
            if cached is not None:
                return cached
            try:
                jwks = self._fetch(url)
            except AuthError:
                state.backoff = min(
                    max(state.backoff * 2, JWKS_MIN_BACKOFF_SECONDS), JWKS_MAX_BACKOFF_SECONDS
                )
                state.retry_at = self._clock() + state.backoff
                state.jwks = None
                raise
            state.jwks = jwks
            state.fresh_until = self._clock() + JWKS_TTL_SECONDS
            state.backoff = state.retry_at = 0.0
            return jwks
        finally:
            state.lock.release()

    def _wait_for_fetch(self, state: _KeySetState) -> bool:
        """Wait for the URL's fetch lock; True when held. At most JWKS_MAX_WAITERS calls wait.

        Each waiting call holds a worker thread: unbounded, a burst of forged tokens naming a
        slow key host would hold them all, and valid calls from other clients would queue.
        """
        with self._states_lock:
            if state.waiters >= JWKS_MAX_WAITERS:
                return False
            state.waiters += 1
        try:
            return state.lock.acquire(timeout=self._timeout * 2)
        finally:
            with self._states_lock:
                state.waiters -= 1

    def _fetch(self, url: str) -> dict[str, Any]:
        try:
            with (
                httpx.Client(timeout=self._timeout, transport=self._transport) as client,
                client.stream("GET", url) as response,
            ):
                response.raise_for_status()
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > JWKS_MAX_BYTES:
                        raise AuthError("jwks too large")
            jwks = json.loads(body)
        except (httpx.HTTPError, ValueError):
            raise AuthError("jwks fetch failed") from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise AuthError("jwks malformed")
        return jwks


def check_token_times(claims: dict[str, Any], now: float, skew: int) -> None:
    """`exp`, `iat` (and `nbf` if given) are whole numbers in range, and the token is live.

    Refuses strings, floats (1e308), booleans and huge integers (10**400) before any arithmetic,
    a lifetime over 5 minutes (exp - iat, and exp - now), an `iat` or `nbf` in the future and an
    expired token, each allowing `skew` seconds of clock difference.
    """
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if value is None and name == "nbf":
            continue
        if value is None:
            raise AuthError(f"no {name}")
        if type(value) is not int:  # bool is an int subclass: refused too
            raise AuthError(f"{name} not an integer")
        if not EARLIEST_TIMESTAMP <= value <= LATEST_TIMESTAMP:
            raise AuthError(f"{name} out of range")
    exp, iat = claims["exp"], claims["iat"]
    if exp <= now - skew:
        raise AuthError("expired")
    if iat > now + skew:
        raise AuthError("issued in the future")
    if claims.get("nbf") is not None and claims["nbf"] > now + skew:
        raise AuthError("not yet valid")
    if exp - iat > MAX_TOKEN_LIFETIME_SECONDS or exp - now > MAX_TOKEN_LIFETIME_SECONDS + skew:
        raise AuthError("lifetime too long")


class Verifier:
    """Verifies CDS Hooks JWTs against the allow-list."""

    def __init__(
        self,
        registry: IssuerRegistry,
        *,
        replay: ReplayStore | None = None,
        clock_skew: int = DEFAULT_CLOCK_SKEW_SECONDS,
        jwks_transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.registry = registry
        # The service passes the database store (shared by workers); the in-memory default is
        # for library use and tests only.
        self.replay = replay or ReplayStore(open_engine("sqlite://"))
        self.clock_skew = clock_skew
        self.fetcher = JWKSFetcher(jwks_transport)
        self._clock = clock

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
            if isinstance(key, dict) and key.get("kid") == kid:
                try:
                    return jwt.PyJWK(key, algorithm=header["alg"]).key
                except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError, TypeError):
                    raise AuthError("bad key") from None
        raise AuthError("unknown kid")

    def verify(self, token: str, audience: str | list[str]) -> dict[str, Any]:
        """The token's claims if it passes every check; AuthError naming the failed check."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, RecursionError):
            raise AuthError("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError("algorithm not allowed")
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise AuthError("no kid")
        if header.get("typ") not in (None, "JWT", "jwt"):
            raise AuthError("wrong typ")
        iss = unverified.get("iss")
        issuer = self.registry.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError("issuer not allowed")
        now = self._clock()
        check_token_times(unverified, now, self.clock_skew)
        jti = unverified.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise AuthError("no jti")
        key = self._key_for(issuer, header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=audience,
                issuer=issuer.iss,
                leeway=self.clock_skew,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("wrong audience") from None
        except (jwt.PyJWTError, ValueError, OverflowError):
            raise AuthError("invalid token") from None
        # Only a token with a good signature may take a jti: forged ones cannot fill the store.
        if not self.replay.claim(issuer.iss, jti, claims["exp"] + self.clock_skew, now):
            raise AuthError("replayed jti")
        return claims


def unauthorized() -> HTTPException:
    return HTTPException(status_code=401, detail=None, headers={"WWW-Authenticate": "Bearer"})


def service_url(request: Request, public_url: str) -> str:
    """The URL the client called (the JWT audience): the configured public URL and the path.

    Never built from the request's Host or X-Forwarded-* headers: the caller controls those.
    """
    return public_url + request.url.path.rstrip("/")


async def require_cds_client(request: Request) -> None:
    """FastAPI dependency: the CDS Hooks JWT check (a no-op when auth is off)."""
    state = request.app.state
    settings = state["settings"]  # by item: one look-up, not a failed attribute look-up
    if not settings.auth:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        log.warning("cds auth refused: no bearer token")
        raise unauthorized()
    url = service_url(request, settings.public_url)
    audiences = [url]
    if url.endswith("/feedback"):
        audiences.append(url.removesuffix("/feedback"))
    verifier: Verifier | None = state["verifier"]
    if verifier is None:
        log.warning("cds auth refused: no issuers configured (EARLYPATH_CDS_ISSUERS)")
        raise unauthorized()
    try:
        # In a worker thread: a JWKS may have to be fetched, the jti store is a database.
        await run_in_threadpool(verifier.verify, token.strip(), audiences)
    except AuthError as error:
        log.warning("cds auth refused: %s", error.kind)
        raise unauthorized() from None
    except ReplayStoreError as error:
        # Fail closed: without the store a replay cannot be ruled out.
        log.error("cds auth: used-token store unavailable (%s)", error)
        raise HTTPException(status_code=503, detail="authentication store unavailable") from None
