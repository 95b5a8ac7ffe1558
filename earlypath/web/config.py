"""Service settings, read from the environment once at start.

EARLYPATH_CDS_AUTH       on (default) | off: JWT checks on CDS Hooks calls (off: loopback only, loudly)
EARLYPATH_CDS_ISSUERS    JSON file: the allow-list of CDS clients (iss) and their keys (JWKS)
EARLYPATH_FEEDBACK_DB    SQLAlchemy URL for CDS feedback and used JWT ids (default: SQLite in the
                         user data dir)
EARLYPATH_PUBLIC_URL     the service's public base URL: the only accepted JWT `aud` base
                         (required when auth is on)
EARLYPATH_JWT_CLOCK_SKEW seconds of clock difference allowed with CDS clients (default 30)
EARLYPATH_TIME_ZONE      IANA time zone whose date is the service's today, and in which a record's
                         instants are dated (default Europe/London; see `earlypath.web.clock` and
                         `earlypath.records.time_zone`)

Limits (each per worker process):
EARLYPATH_MAX_HEADER_BYTES   request line + headers (431 above; default 32768)
EARLYPATH_MAX_BODY_BYTES     request body (413 above, counted while it arrives; default 2 MiB)
EARLYPATH_MAX_JSON_DEPTH     nesting of a JSON body (400 above; default 64)
EARLYPATH_HEADER_TIMEOUT     seconds to receive the request line and headers (default 10)
EARLYPATH_BODY_TIMEOUT       seconds to receive the whole body (408 after; default 30)
EARLYPATH_KEEP_ALIVE_TIMEOUT seconds an idle keep-alive connection is kept (default 5)
EARLYPATH_MAX_CONCURRENCY    open connections + requests in progress (503 above; default 1000)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from earlypath.env_settings import number_setting
from earlypath.errors import ConfigError
from earlypath.web.clock import DEFAULT_TIME_ZONE, time_zone


def default_data_dir() -> Path:
    """The user's data directory for earlypath (XDG_DATA_HOME, else ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "earlypath"


def default_feedback_url() -> str:
    return f"sqlite:///{default_data_dir() / 'cds-feedback.sqlite3'}"


# name: (default, lowest allowed, highest allowed)
_LIMITS: dict[str, tuple[int, int, int]] = {
    "EARLYPATH_JWT_CLOCK_SKEW": (30, 0, 300),
    "EARLYPATH_MAX_HEADER_BYTES": (32_768, 1_024, 1_048_576),
    "EARLYPATH_MAX_BODY_BYTES": (2_097_152, 1_024, 104_857_600),
    "EARLYPATH_MAX_JSON_DEPTH": (64, 8, 512),
    "EARLYPATH_HEADER_TIMEOUT": (10, 1, 300),
    "EARLYPATH_BODY_TIMEOUT": (30, 1, 600),
    "EARLYPATH_KEEP_ALIVE_TIMEOUT": (5, 1, 300),
    "EARLYPATH_MAX_CONCURRENCY": (1_000, 1, 100_000),
}


def _int_setting(name: str) -> int:
    default, low, high = _LIMITS[name]
    return number_setting(name, default, int, "a whole number", low, high)


def check_public_url(url: str) -> str:
    """The public base URL without a trailing slash, or ConfigError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("EARLYPATH_PUBLIC_URL must be an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("EARLYPATH_PUBLIC_URL must have no query, fragment or credentials")
    return url.rstrip("/")


@dataclass(frozen=True)
class Settings:
    auth: bool = True
    issuers_file: str | None = None
    feedback_db: str = ""
    public_url: str | None = None
    jwt_clock_skew: int = _LIMITS["EARLYPATH_JWT_CLOCK_SKEW"][0]
    max_header_bytes: int = _LIMITS["EARLYPATH_MAX_HEADER_BYTES"][0]
    max_body_bytes: int = _LIMITS["EARLYPATH_MAX_BODY_BYTES"][0]
    max_json_depth: int = _LIMITS["EARLYPATH_MAX_JSON_DEPTH"][0]
    header_timeout: int = _LIMITS["EARLYPATH_HEADER_TIMEOUT"][0]
    body_timeout: int = _LIMITS["EARLYPATH_BODY_TIMEOUT"][0]
    keep_alive_timeout: int = _LIMITS["EARLYPATH_KEEP_ALIVE_TIMEOUT"][0]
    max_concurrency: int = _LIMITS["EARLYPATH_MAX_CONCURRENCY"][0]
    time_zone: str = DEFAULT_TIME_ZONE

    @classmethod
    def from_env(cls) -> Settings:
        auth = os.environ.get("EARLYPATH_CDS_AUTH", "on").strip().lower() not in (
            "off",
            "0",
            "false",
            "no",
        )
        return cls(
            auth=auth,
            issuers_file=os.environ.get("EARLYPATH_CDS_ISSUERS") or None,
            feedback_db=os.environ.get("EARLYPATH_FEEDBACK_DB") or default_feedback_url(),
            public_url=(os.environ.get("EARLYPATH_PUBLIC_URL") or "").strip() or None,
            jwt_clock_skew=_int_setting("EARLYPATH_JWT_CLOCK_SKEW"),
            max_header_bytes=_int_setting("EARLYPATH_MAX_HEADER_BYTES"),
            max_body_bytes=_int_setting("EARLYPATH_MAX_BODY_BYTES"),
            max_json_depth=_int_setting("EARLYPATH_MAX_JSON_DEPTH"),
            header_timeout=_int_setting("EARLYPATH_HEADER_TIMEOUT"),
            body_timeout=_int_setting("EARLYPATH_BODY_TIMEOUT"),
            keep_alive_timeout=_int_setting("EARLYPATH_KEEP_ALIVE_TIMEOUT"),
            max_concurrency=_int_setting("EARLYPATH_MAX_CONCURRENCY"),
            time_zone=os.environ.get("EARLYPATH_TIME_ZONE", "").strip() or DEFAULT_TIME_ZONE,
        )

    def checked(self) -> Settings:
        """These settings if the service can start with them; ConfigError with the reason if not.

        With auth on, the JWT audience is compared with EARLYPATH_PUBLIC_URL only: never with
        the request's own Host or X-Forwarded-* headers, which the caller controls.
        """
        time_zone(self.time_zone)  # a zone that cannot be loaded stops the start, named
        if self.auth and not self.public_url:
            raise ConfigError(
                "EARLYPATH_PUBLIC_URL is required when CDS auth is on: it is the only accepted "
                "JWT audience (for example https://cds.example.org)"
            )
        if self.public_url:
            url = check_public_url(self.public_url)
            if url != self.public_url:
                return replace(self, public_url=url)
        return self
