"""The publish makes each output durable once, all together, before its commit (issue 16: a
1M-row audit spent 70-120 ms of wall time waiting on 14 ``fsync`` calls in a row, which no CPU
or instruction count shows)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from earlypath.audit.output import MANIFEST, PUBLISHING_PREFIX, STAGING_PREFIX
from earlypath.audit.run import OUTPUTS, run_audit


def test_each_output_is_synced_once_together_before_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earlypath.synth import write_cohort

    cohort = write_cohort(30, 1, "csv", tmp_path / "cohort.csv")
    events: list[tuple[str, str, int]] = []  # (what, path, thread)
    lock = threading.Lock()
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        real_fsync(fd)
        with lock:
            events.append(("sync", os.readlink(f"/proc/self/fd/{fd}"), threading.get_ident()))

    def rename(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        real_rename(source, target)
        with lock:
            events.append(("rename", str(target), threading.get_ident()))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    run_audit(cohort, tmp_path / "out")

    commit = next(i for i, e in enumerate(events) if e[0] == "rename" and PUBLISHING_PREFIX in e[1])
    before = [e for e in events[:commit] if e[0] == "sync"]
    files = [Path(path).name for _, path, _ in before if Path(path).is_file() or "." in path]
    synced_names = [Path(path).name for _, path, _ in before]
    # Every output and the manifest made durable before the commit, each once, and no
    # temporary file synced on its way into the staging folder.
    for name in (*OUTPUTS, MANIFEST):
        assert synced_names.count(name) == 1, (name, synced_names)
    assert not [n for n in files if n.endswith(".tmp")], files
    assert any(Path(path).name.startswith(STAGING_PREFIX) for _, path, _ in before)
    # Together: the outputs' syncs ran on threads of their own (`_fsync_together`).
    threads = {thread for _, path, thread in before if Path(path).name in OUTPUTS}
    assert threads and threading.main_thread().ident not in threads
