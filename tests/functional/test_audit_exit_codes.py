"""`earlypath audit` exits 2 with a message naming the path for a bad --out (the input itself,
inside the input folder, not writable, a full disk), checked before any work; never exit 1."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from earlypath.synth import write_cohort

CLI = [sys.executable, "-c", "from earlypath.cli import main; main()"]


def cli(monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: str) -> tuple[int, str]:
    from earlypath import cli as cli_module

    monkeypatch.setattr(sys, "argv", ["earlypath", "audit", *args, "--quiet"])
    with pytest.raises(SystemExit) as caught:
        cli_module.main()
    return int(caught.value.code or 0), capsys.readouterr().err.strip()


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    path = tmp_path / "cohort.csv"
    write_cohort(60, 1, "csv", path)
    return path


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad --out must be found before the cohort is read and judged."""
    import earlypath.audit.run as run_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cohort was evaluated before --out was checked")

    monkeypatch.setattr(run_module, "evaluate", refuse)


def test_out_is_the_input_file(cohort: Path, monkeypatch, capsys, no_work) -> None:
    code, err = cli(monkeypatch, capsys, str(cohort), "--out", str(cohort))
    assert (code, err) == (2, f"error: --out: {cohort} is the input itself")


def test_out_inside_the_input_folder(tmp_path: Path, monkeypatch, capsys, no_work) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    write_cohort(10, 1, "csv", folder / "part-0.csv")
    out = folder / "results"
    code, err = cli(monkeypatch, capsys, str(folder), "--out", str(out))
    assert (code, err) == (2, f"error: --out: {out} is inside the input folder {folder}")
    assert not out.exists()


def test_out_would_overwrite_the_input(tmp_path: Path, monkeypatch, capsys, no_work) -> None:
    path = tmp_path / "episodes.parquet"
    write_cohort(10, 1, "parquet", path)
    code, err = cli(monkeypatch, capsys, str(path), "--out", str(tmp_path))
    assert code == 2 and err.startswith(f"error: --out: {tmp_path} would overwrite the input")


def test_out_is_a_file(cohort: Path, tmp_path: Path, monkeypatch, capsys, no_work) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x")
    code, err = cli(monkeypatch, capsys, str(cohort), "--out", str(other / "sub"))
    assert (code, err) == (
        2,
        f"error: --out: {other / 'sub'} cannot be made: {other} is not a folder",
    )
    code, err = cli(monkeypatch, capsys, str(cohort), "--out", str(other))
    assert (code, err) == (2, f"error: --out: {other} exists and is not a folder")


def test_out_folder_not_writable(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o555)
    out.chmod(0o555)
    command = [*CLI, "audit", str(cohort), "--out", str(out), "--quiet"]
    if os.geteuid() == 0:  # root writes anywhere: run it without the capabilities that allow it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: a folder cannot be made read-only")
        drop = "-dac_override,-dac_read_search,-fowner"
        command = ["setpriv", f"--bounding-set={drop}", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: --out: cannot write to {out}: Permission denied"


@pytest.mark.parametrize("limit", [30_000, 150_000])  # DuckDB's Parquet; then Python's JSON
def test_a_full_disk_exits_2_and_keeps_the_previous_outputs(tmp_path: Path, limit: int) -> None:
    cohort = tmp_path / "cohort.csv"
    write_cohort(3000, 2, "csv", cohort)
    out = tmp_path / "out"
    first = subprocess.run(
        [*CLI, "audit", str(cohort), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def small_files() -> None:  # writes past the limit fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [*CLI, "audit", str(cohort), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_files,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: --out: cannot write the outputs to {out}: ")
    assert "internal error" not in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
