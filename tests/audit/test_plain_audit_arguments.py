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


def _typer_audit_options() -> list:
    """The options of ``earlypath audit`` as typer builds them (its click parameters)."""
    import typer

    from earlypath.audit.commands import audit_command

    single = typer.Typer(add_completion=False)
    single.command("audit")(audit_command)
    command = typer.main.get_command(single)
    return [p for p in command.params if p.param_type_name == "option"]


def test_every_typer_audit_option_is_read_the_same_or_left_to_typer() -> None:
    # A new option of `audit_command` that the plain reading does not know is left to typer
    # (never dropped or misread); a known one has the same parameter, kind and default.
    import inspect

    from earlypath.audit import command_line

    defaults = inspect.signature(command_line.audit_line).parameters
    known = {**command_line._AUDIT_OPTIONS, **command_line._AUDIT_FLAGS}
    seen = set()
    for option in _typer_audit_options():
        for name in (*option.opts, *option.secondary_opts):
            if name in known:
                seen.add(name)
                assert known[name] == option.name, name
                assert (name in command_line._AUDIT_FLAGS) == option.is_flag, name
                assert option.multiple == (option.name == "group_by"), name
                if not option.required:
                    assert (option.default or None) == (defaults[option.name].default or None)
            else:
                for line in (["c.csv", "--out", "o", name], ["c.csv", "--out", "o", name, "x"]):
                    assert plain_audit_arguments(line) is None, line
    assert seen == set(known)  # nothing listed that typer no longer has


def test_an_option_typer_has_and_the_reading_does_not_is_left_to_typer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a new option would be: --engine taken out of the plain reading goes to typer.
    from earlypath.audit import command_line

    monkeypatch.delitem(command_line._AUDIT_OPTIONS, "--engine")
    assert plain_audit_arguments(["c.csv", "--out", "o", "--engine", "python"]) is None
    assert plain_audit_arguments(["c.csv", "--out", "o"]) is not None


@pytest.mark.parametrize("terminal", [False, True])
def test_the_plain_audit_prints_as_typer_does(
    terminal: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its lines are typer.echo's: flushed, and colour codes dropped unless on a terminal.
    import sys

    import typer

    from earlypath.audit.command_line import echo

    message = "INPUT: \x1b[31mred\x1b[0m.csv does not exist"
    for err in (False, True):
        for stream in (sys.stdout, sys.stderr):
            monkeypatch.setattr(stream, "isatty", lambda: terminal, raising=False)
        echo(message, err=err)
        ours = capsys.readouterr()
        typer.echo(message, err=err)
        assert capsys.readouterr() == ours
        assert ("\x1b" in (ours.err if err else ours.out)) == terminal
