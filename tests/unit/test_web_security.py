"""Used JWT ids (the replay store): once per (iss, jti), shared by workers, kept over restarts."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from sqlalchemy import text

from earlypath.web.database import open_engine
from earlypath.web.replay import ReplayStore, used_jwt_ids


def _store(path: Path) -> ReplayStore:
    return ReplayStore(open_engine(f"sqlite:///{path}"))


def test_replay_store_accepts_each_jti_once(tmp_path):
    store = _store(tmp_path / "r.db")
    exp = int(time.time()) + 60
    assert store.claim("iss", "a", exp) is True
    assert store.claim("iss", "a", exp) is False
    assert store.claim("other-iss", "a", exp) is True


def test_replay_store_survives_a_restart(tmp_path):
    exp = int(time.time()) + 60
    assert _store(tmp_path / "r.db").claim("iss", "a", exp) is True
    restarted = _store(tmp_path / "r.db")  # a new process would open the file the same way
    assert restarted.claim("iss", "a", exp) is False


def _claim_all(db: str, jtis: list[str], exp: int, results: multiprocessing.Queue) -> None:
    store = ReplayStore(open_engine(db))
    results.put(sum(store.claim("iss", jti, exp) for jti in jtis))


def test_two_workers_never_both_accept_a_jti(tmp_path):
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    ReplayStore(open_engine(db))  # create the table before the race
    jtis = [f"jti-{i}" for i in range(60)]
    exp = int(time.time()) + 60
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_claim_all, args=(db, jtis, exp, results)) for _ in range(3)]
    for worker in workers:
        worker.start()
    accepted = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert sum(accepted) == len(jtis)  # each jti accepted by exactly one worker


def test_expired_entries_are_pruned_in_bounded_batches_through_the_index(tmp_path):
    store = _store(tmp_path / "r.db")
    now = time.time()
    with store.engine.begin() as connection:
        connection.execute(
            used_jwt_ids.insert(),
            [{"key": f"old-{i}", "expires_at": int(now) - 10} for i in range(2_500)],
        )
    assert store.claim("iss", "live", int(now) + 60, now) is True  # prunes one batch
    assert store.count() == 2_500 - 1_000 + 1
    assert store.prune(now) == 1_000
    assert store.prune(now) == 500
    assert store.count() == 1
    with store.engine.connect() as connection:
        plan = " ".join(
            str(row[-1])
            for row in connection.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT key FROM cds_used_jwt_ids "
                    "WHERE expires_at < 5 ORDER BY expires_at LIMIT 1000"
                )
            )
        )
    assert "USING INDEX" in plan and "expires_at" in plan, plan


def test_an_expired_entry_does_not_block_its_key(tmp_path):
    store = _store(tmp_path / "r.db")
    now = time.time()
    assert store.claim("iss", "a", int(now) - 5, now - 100) is True
    assert store.claim("iss", "a", int(now) + 60, now) is True  # the old row had expired
    assert store.claim("iss", "a", int(now) + 60, now) is False
