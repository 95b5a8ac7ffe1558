"""`plain_audit_arguments`: the `earlypath audit` command lines run without typer's parsing
(issue 16: start-up) mean what typer reads them as; every other line is left to typer."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from earlypath.audit.commands import plain_audit_arguments


def test_a_plain_command_line_gives_the_audit_its_arguments() -> None:
    line = ["c.csv", "--out", "o", "--engine=python", "--group-by", "site", "--group-by=age_band"]
    line += ["--stop-at", "16+6", "--quiet", "--suppress-below", "5"]
    assert plain_audit_arguments(line) == {
        "source": Path("c.csv"),
        "out": Path("o"),
        "engine": "python",
        "group_by": ["site", "age_band"],
        "stop_at": "16+6",
        "quiet": True,
        "suppress_below": 5,
    }
    # The options before INPUT, and only what is given: the rest are the command's defaults.
    assert plain_audit_arguments(["--out=o", "c.csv"]) == {
        "source": Path("c.csv"),
        "out": Path("o"),
    }


@pytest.mark.parametrize(
    "line",
    [
        [],
        ["c.csv"],  # no --out
        ["--out", "o"],  # no INPUT
        ["c.csv", "d.csv", "--out", "o"],  # two INPUTs
        ["c.csv", "--out"],  # no value
        ["c.csv", "--out", ""],
        ["c.csv", "--out="],
        ["c.csv", "--out", "o", "--out", "p"],  # repeated
        ["c.csv", "--out", "o", "--quiet", "--quiet"],
        ["c.csv", "--out", "o", "--quiet=true"],
        ["c.csv", "--out", "-o"],  # a value like an option
        ["c.csv", "--out", "o", "--help"],
        ["c.csv", "--out", "o", "--ou", "p"],  # not in full
        ["c.csv", "--out", "o", "--ward", "A"],  # unknown
        ["c.csv", "--out", "o", "--"],
        ["-", "--out", "o"],
        ["c.csv", "--out", "o", "--suppress-below", "-1"],
        ["c.csv", "--out", "o", "--suppress-below", "five"],
        ["c.csv", "--out", "o", "--suppress-below", "٥"],  # a digit, not ASCII
        ["c.csv", "--out", "o", "--suppress-below", "1.5"],
        ["c\udcff.csv", "--out", "o"],  # a name the system could not decode
    ],
)
def test_any_other_command_line_is_left_to_typer(line: list[str]) -> None:
    assert plain_audit_arguments(line) is None


@pytest.mark.parametrize(
    "line",
    [
        ["c.csv", "--out", "o"],
        ["--out=o", "c.csv", "--quiet", "--group-by", "site", "--group-by", "ward"],
        ["c.csv", "--out", "o", "--engine", "python", "--stop-at=16+6", "--suppress-below=007"],
    ],
)
def test_typer_reads_a_plain_command_line_the_same(
    line: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The audit is called with the same arguments whether typer parsed the line or not.
    from earlypath.audit import commands, run
    from earlypath.cli import app

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(run, "run_audit", lambda *a, **k: calls.append((a, k)))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.csv").write_text("episode_id\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", *line])
    assert result.exit_code == 0, result.output
    plain = plain_audit_arguments(line)
    assert plain is not None
    commands.audit_command(**plain)  # type: ignore[arg-type]
    assert len(calls) == 2
    assert calls[0] == calls[1]
