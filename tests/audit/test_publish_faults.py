"""Audit outputs are published as a set, manifest.json last: an audit killed at any point
leaves the out folder with the previous complete outputs or the new complete outputs, each
verified against its manifest, and the next run (or reader) clears what the killed run left."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from earlypath.audit import output
from earlypath.audit.output import (
    KILL_AT_STEP,
    LOCK,
    MANIFEST,
    PUBLISHING_PREFIX,
    STAGING_PREFIX,
    open_audit_output,
    staged_outputs,
)
from earlypath.audit.run import OUTPUTS
from earlypath.errors import OutputError

CLI = [sys.executable, "-c", "from earlypath.cli import main; main()"]
OLD_ROWS, NEW_ROWS = 30, 45
# Each output made durable, the staged manifest, the commit (one rename), the old manifest
# removed, each output moved into place, the new manifest moved into place.
COMMIT_STEP = len(OUTPUTS) + 2
PUBLISHING_STEPS = 2 * len(OUTPUTS) + 4
TIMED_KILLS = 10


def audit(cohort: Path, out: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "audit", str(cohort), "--out", str(out), "--quiet"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from earlypath.synth import write_cohort

    folder = tmp_path_factory.mktemp("faults")
    old, new = folder / "old.csv", folder / "new.csv"
    write_cohort(OLD_ROWS, 1, "csv", old)
    write_cohort(NEW_ROWS, 2, "csv", new)
    template = folder / "template"
    # The kills fall within a run's time: the shorter of a cold and a warm run, so that a first
    # run slowed by a cold disk cache or a busy neighbour (another pytest worker) does not send
    # the kills after the later, faster runs have ended.
    seconds = []
    for out in (template, folder / "warm"):
        started = time.perf_counter()
        done = audit(new if out != template else old, out)
        assert done.wait(120) == 0, done.stderr.read() if done.stderr else ""
        seconds.append(time.perf_counter() - started)
    return {"old": old, "new": new, "template": template, "seconds": min(seconds)}


def rows_of(out: Path) -> tuple[int, str]:
    """(rows_in, run id) of the complete set the folder holds; every file is checked against
    the manifest, and the files are checked to be of one run (their counts add up)."""
    result = open_audit_output(out)
    summary = json.loads(result.path("summary.json").read_text(encoding="utf-8"))
    rows_in = summary["reconciliation"]["rows_in"]
    evaluated = pq.ParquetFile(result.path("episodes.parquet")).metadata.num_rows
    with open(result.path("rejects.csv"), encoding="utf-8", newline="") as handle:
        rejected = sum(1 for _ in csv.reader(handle)) - 1
    assert evaluated + rejected == rows_in
    assert {e["name"] for e in result.manifest["files"]} == set(OUTPUTS)
    return rows_in, result.run_id


def check_after_kill(out: Path, template_run: str) -> int:
    # Only the outputs and the manifest are visible; what a run stages is hidden.
    visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert visible <= {*OUTPUTS, MANIFEST}, visible
    # As the folder was left (the lock held, so the reader finishes nothing): one complete set.
    with open(out / LOCK, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        as_left = rows_of(out)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    rows, run = as_left
    assert (rows, run == template_run) in ((OLD_ROWS, True), (NEW_ROWS, False))
    # Opened again without the lock, the reader finishes the publish and clears the rest.
    assert rows_of(out) == as_left
    assert not [p for p in out.iterdir() if p.name.startswith((STAGING_PREFIX, PUBLISHING_PREFIX))]
    assert rows_of(out) == as_left  # and the top level now holds that set itself
    return rows


@pytest.mark.parametrize("step", range(1, PUBLISHING_STEPS + 1))
def test_a_kill_at_each_publishing_step(setup: dict[str, Any], tmp_path: Path, step: int) -> None:
    out = tmp_path / "out"
    shutil.copytree(setup["template"], out)
    template_run = rows_of(out)[1]
    run = audit(setup["new"], out, **{KILL_AT_STEP: str(step)})
    assert run.wait(120) == -signal.SIGKILL
    rows = check_after_kill(out, template_run)
    # Up to the commit the previous outputs stand; from it, the new ones.
    assert rows == (OLD_ROWS if step < COMMIT_STEP else NEW_ROWS)


def test_kills_at_random_times(setup: dict[str, Any], tmp_path: Path) -> None:
    chance = random.Random(15)
    killed = 0
    seconds = setup["seconds"]
    # A run that ends before its kill still has its outputs checked, but does not count: the
    # time scale then shrinks, so a machine that got faster (a pytest neighbour done) still
    # gets half its attempts killed mid-run, at random points.
    for attempt in range(3 * TIMED_KILLS):
        out = tmp_path / f"out{attempt}"
        shutil.copytree(setup["template"], out)
        template_run = rows_of(out)[1]
        run = audit(setup["new"], out)
        time.sleep(chance.uniform(0.05, 0.95) * seconds)  # anywhere in a run
        run.send_signal(signal.SIGKILL)
        if run.wait(120) == -signal.SIGKILL:
            killed += 1
        else:
            seconds *= 0.7
        check_after_kill(out, template_run)
        if killed >= TIMED_KILLS // 2 and attempt + 1 >= TIMED_KILLS:
            break
    assert killed >= TIMED_KILLS // 2


def test_the_next_run_clears_a_killed_run_and_publishes(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(setup["template"], out)
    killed = audit(setup["new"], out, **{KILL_AT_STEP: "3"})  # killed while staging
    assert killed.wait(120) == -signal.SIGKILL
    assert any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())
    # What earlier versions left beside the outputs: a visible tmp_ Parquet among them.
    (out / "tmp_.episodes.parquet.123.staged").write_bytes(b"PAR1")
    (out / ".summary.json.123.staged").write_text("{")
    done = audit(setup["new"], out)
    assert done.wait(120) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([LOCK, MANIFEST, *OUTPUTS])
    assert rows_of(out)[0] == NEW_ROWS


def test_a_changed_or_missing_file_is_not_a_complete_output(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(setup["template"], out)
    with open(out / "rejects.csv", "a", encoding="utf-8") as handle:
        handle.write("99,x,changed\n")
    with pytest.raises(OutputError, match="rejects.csv does not match manifest.json"):
        open_audit_output(out)
    (out / MANIFEST).unlink()
    with pytest.raises(OutputError, match="no complete audit output"):
        open_audit_output(out)


def test_the_manifest_names_every_output_with_size_and_checksum(setup: dict[str, Any]) -> None:
    import hashlib

    manifest = json.loads((setup["template"] / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run_id"] and [e["name"] for e in manifest["files"]] == list(OUTPUTS)
    for entry in manifest["files"]:
        data = (setup["template"] / entry["name"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_any_output_name_is_published_and_a_second_writer_is_refused(tmp_path: Path) -> None:
    names = ("a.json", "case-list.csv")  # the mechanism is not tied to the audit's four files
    with staged_outputs(tmp_path, names) as staged:
        for name in names:
            staged[name].write_text(name)
        with (
            pytest.raises(OutputError, match="another earlypath audit"),
            staged_outputs(tmp_path, names),
        ):
            pass
    result = open_audit_output(tmp_path)
    assert {n: result.path(n).read_text() for n in names} == {n: n for n in names}
    with (
        pytest.raises(OutputError, match="was not written"),
        staged_outputs(tmp_path, ("missing.json",)),
    ):
        pass
    assert open_audit_output(tmp_path).run_id == result.run_id  # the previous set stands


def entries_noted(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Which thread took each output's manifest entry (size and checksum), by its name."""
    takers: dict[str, str] = {}
    entry = output._file_entry

    def noted(path: Path) -> dict[str, Any]:
        takers[path.name] = threading.current_thread().name
        return entry(path)

    monkeypatch.setattr(output, "_file_entry", noted)
    return takers


def test_a_sealed_output_is_synced_and_summed_by_its_thread_and_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    takers = entries_noted(monkeypatch)
    names = ("big.bin", "small.json")
    with staged_outputs(tmp_path, names) as staged:
        staged["big.bin"].write_bytes(random.Random(1).randbytes(1 << 20))
        staged.seal("big.bin")
        staged["small.json"].write_text("{}")
    assert takers == {"big.bin": "earlypath-seal", "small.json": threading.current_thread().name}
    result = open_audit_output(tmp_path)  # every file matches its manifest entry
    assert result.path("big.bin").stat().st_size == 1 << 20


def test_an_error_sealing_an_output_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> dict[str, Any]:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(output, "_file_entry", broken)
    with (
        pytest.raises(OutputError, match="cannot write the outputs.*Input/output error"),
        staged_outputs(tmp_path, ("a.bin",)) as staged,
    ):
        staged["a.bin"].write_bytes(b"a")
        staged.seal("a.bin")
    assert not (tmp_path / MANIFEST).exists() and not (tmp_path / "a.bin").exists()
    assert not list(tmp_path.glob(f"{STAGING_PREFIX}*"))
