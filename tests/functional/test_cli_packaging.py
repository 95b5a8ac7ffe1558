"""The command line as packaged: --version, no broken completion offered, every --format checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from earlypath import __version__

BIN = Path(sys.executable).parent / "earlypath"
COMMANDS = ("assess", "schema", "examples", "serve", "audit", "synth", "impact")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_version_prints_the_package_version_and_exits_0() -> None:
    r = run("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"earlypath {__version__}"


def test_no_arguments_still_shows_help() -> None:
    r = run()
    assert "Usage" in r.stdout + r.stderr
    assert "assess" in r.stdout + r.stderr


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_no_command_offers_shell_completion(command: str | None) -> None:
    """Typer's completion installer does not reach lazily loaded commands, so none is offered."""
    r = run(*([command] if command else []), "--help")
    assert r.returncode == 0, r.stderr
    assert "completion" not in r.stdout.lower()


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (("examples",), "text or json"),
        (
            (
                "assess",
                str(Path(__file__).parents[2] / "earlypath/examples/01-eligible-offer.json"),
            ),
            "json or text",
        ),
        (("synth", "--n", "1", "--out", "/nonexistent/x"), "csv, parquet or fhir-ndjson"),
    ],
)
def test_every_format_option_rejects_an_unknown_value(args: tuple[str, ...], choices: str) -> None:
    r = run(*args, "--format", "xml")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("--format:"), r.stderr
    assert choices in r.stderr


def test_every_command_with_a_format_option_is_covered() -> None:
    """A new --format added to a command must get a case in the test above."""
    tested = {"examples", "assess", "synth"}
    with_format = {c for c in COMMANDS if "--format" in run(c, "--help").stdout}
    assert with_format == tested
