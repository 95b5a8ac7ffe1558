"""One SQLAlchemy engine for the service's own tables (CDS feedback, used JWT ids).

Any SQLAlchemy URL works; SQLite (the default) gets its folder created, write-ahead logging and a
busy timeout, so several worker processes can share one file without "database is locked".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from earlypath.web.config import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _is_memory_sqlite(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:") or ":memory:" in url or "mode=memory" in url


def check_replay_database(url: str, auth: bool) -> None:
    """With CDS auth on, used JWT ids must outlive a restart and be seen by every worker: an
    in-memory SQLite database keeps them for one process only, so a token could be replayed."""
    if auth and url.startswith("sqlite") and _is_memory_sqlite(url):
        raise ConfigError(
            "EARLYPATH_FEEDBACK_DB is an in-memory database: with CDS auth on it holds the used "
            "JWT ids, which must be kept across restarts and shared by workers; use a file "
            "(sqlite:///path) or a database server"
        )


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files are made ready for concurrent use by several processes."""
    kwargs: dict[str, Any] = {}
    sqlite = url.startswith("sqlite")
    if sqlite:
        kwargs["connect_args"] = {"check_same_thread": False}
        if _is_memory_sqlite(url):
            kwargs["poolclass"] = StaticPool  # one shared in-memory database
        else:
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    if sqlite and not _is_memory_sqlite(url):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

    return engine
