"""Used JWT ids (`jti`), shared by every worker and kept across restarts, in a database table.

A token is accepted once: its (iss, jti) key is inserted under a unique constraint, so when two
workers see the same token at the same moment the database lets exactly one insert succeed.
Each row keeps its token's expiry (plus the clock skew allowed); expired rows are deleted now and
then through an index on the expiry, a bounded batch at a time, never by rebuilding anything.
"""

from __future__ import annotations

import hashlib
import threading
import time

from sqlalchemy import BigInteger, Column, MetaData, String, Table, delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

metadata = MetaData()

used_jwt_ids = Table(
    "cds_used_jwt_ids",
    metadata,
    # sha256 of iss and jti: a fixed width whatever the client sends.
    Column("key", String(64), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

PRUNE_EVERY_SECONDS = 30
PRUNE_BATCH = 1_000


class ReplayStoreError(Exception):
    """The store could not be read or written: the token cannot be accepted (fail closed)."""


def _key(iss: str, jti: str) -> str:
    return hashlib.sha256(f"{iss}\x00{jti}".encode()).hexdigest()


class ReplayStore:
    """Remembers each (iss, jti) until `expires_at`; `claim` succeeds once per pair."""

    def __init__(self, engine: Engine):
        self.engine = engine
        metadata.create_all(engine)
        self._next_prune = 0.0
        self._prune_lock = threading.Lock()

    def claim(self, iss: str, jti: str, expires_at: int, now: float | None = None) -> bool:
        """True if this (iss, jti) was not used before (and is now taken); False if it was.

        Raises ReplayStoreError if the database cannot answer.
        """
        now = time.time() if now is None else now
        key = _key(iss, jti)
        try:
            self._maybe_prune(now)
            if self._insert(key, expires_at):
                return True
            # Taken: by a live token (a replay), or by an expired row not pruned yet.
            with self.engine.begin() as connection:
                freed = connection.execute(
                    delete(used_jwt_ids).where(
                        used_jwt_ids.c.key == key, used_jwt_ids.c.expires_at < int(now)
                    )
                ).rowcount
            return bool(freed) and self._insert(key, expires_at)
        except SQLAlchemyError as error:
            raise ReplayStoreError(type(error).__name__) from None

    def _insert(self, key: str, expires_at: int) -> bool:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(used_jwt_ids).values(key=key, expires_at=expires_at))
            return True
        except IntegrityError:
            return False

    def _maybe_prune(self, now: float) -> None:
        if now < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            # A full batch means more may be waiting: prune again at the next claim.
            full = self.prune(now) >= PRUNE_BATCH
            self._next_prune = now if full else now + PRUNE_EVERY_SECONDS
        finally:
            self._prune_lock.release()

    def prune(self, now: float | None = None, batch: int = PRUNE_BATCH) -> int:
        """Delete up to `batch` expired rows (found through the expiry index); how many went."""
        now = time.time() if now is None else now
        expired = (
            select(used_jwt_ids.c.key)
            .where(used_jwt_ids.c.expires_at < int(now))
            .order_by(used_jwt_ids.c.expires_at)
            .limit(batch)
        )
        with self.engine.begin() as connection:
            return connection.execute(
                delete(used_jwt_ids).where(used_jwt_ids.c.key.in_(expired.scalar_subquery()))
            ).rowcount

    def count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(used_jwt_ids)).scalar_one()
