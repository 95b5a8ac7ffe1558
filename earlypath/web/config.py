"""Service settings, read from the environment once at start.

EARLYPATH_CDS_AUTH       on (default) | off: JWT checks on CDS Hooks calls (off: loopback only, loudly)
EARLYPATH_CDS_ISSUERS    JSON file: the allow-list of CDS clients (iss) and their keys (JWKS)
EARLYPATH_FEEDBACK_DB    SQLAlchemy URL for CDS feedback (default: SQLite in the user data dir)
EARLYPATH_PUBLIC_URL     the service's public base URL, for the JWT `aud` check behind a proxy
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def default_data_dir() -> Path:
    """The user's data directory for earlypath (XDG_DATA_HOME, else ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "earlypath"


def default_feedback_url() -> str:
    return f"sqlite:///{default_data_dir() / 'cds-feedback.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    auth: bool = True
    issuers_file: str | None = None
    feedback_db: str = ""
    public_url: str | None = None

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
            public_url=(os.environ.get("EARLYPATH_PUBLIC_URL") or "").rstrip("/") or None,
        )
