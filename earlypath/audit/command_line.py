"""`earlypath audit` without typer (issue 16: start-up): the plain command lines and the audit
they run.

`earlypath.cli.main` reads a plain ``earlypath audit`` line with `plain_audit_arguments` and
runs `audit_line`, importing neither typer (about 0.05 s) nor the typer app; any other line
goes to typer, whose command (`earlypath.audit.commands.audit_command`) runs the same
`audit_line`. The checks, the messages and the exit codes are this module's either way.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from earlypath.errors import EXIT_INPUT

__all__ = ["audit_failure", "audit_line", "echo", "plain_audit_arguments"]


def audit_line(
    source: Path,
    out: Path,
    engine: str = "duckdb",
    group_by: Sequence[str] | None = None,
    stop_at: str = "16+0",
    quiet: bool = False,
    suppress_below: int = 0,
    print_line: Callable[..., None] | None = None,
) -> int:
    """Check the options, run the audit and print its outcome (with ``print_line``, `echo` by
    default); the exit code (0: done)."""
    from earlypath.audit.run import run_audit
    from earlypath.errors import EarlypathError
    from earlypath.policy import Policy

    say = print_line or echo
    problems = []
    if engine not in ("duckdb", "spark", "python"):
        problems.append(f"--engine: must be duckdb, spark or python, not {engine!r}")
    if stop_at not in ("16+0", "16+6"):
        problems.append(f"--stop-at: must be 16+0 or 16+6, not {stop_at!r}")
    if not source.exists():
        problems.append(f"INPUT: {source} does not exist")
    if problems:
        for line in problems:
            say(line, err=True)
        return EXIT_INPUT
    try:
        run_audit(
            source,
            out,
            engine=engine,  # type: ignore[arg-type]
            group_by=group_by or (),
            policy=Policy(stop_at=stop_at),  # type: ignore[arg-type]
            progress=not quiet,
            echo=say,
            suppress_below=suppress_below,
        )
    except (EarlypathError, ValueError) as error:
        code, lines = audit_failure(error)
        for line in lines:
            say(line, err=True)
        return code
    return 0


_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def echo(message: str, err: bool = False) -> None:
    """Print a line as ``typer.echo`` does: to stdout (stderr with ``err``), flushed, with any
    terminal colour codes taken out when the stream is not a terminal."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # no standard stream (as typer: nothing to write to)
        return
    text = message + "\n"
    if not _is_terminal(stream):
        text = _ANSI.sub("", text)
    stream.write(text)
    stream.flush()


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


# `audit_command`'s options, for `plain_audit_arguments`: an option not listed here (a new one,
# or --help) is left to typer, so the list can lag behind the signature but never misread it
# (tests/audit/test_plain_audit_arguments.py holds that every typer option is one or the other).
_AUDIT_OPTIONS = {
    "--out": "out",
    "--engine": "engine",
    "--group-by": "group_by",
    "--stop-at": "stop_at",
    "--suppress-below": "suppress_below",
}
_AUDIT_FLAGS = {"--quiet": "quiet"}


def plain_audit_arguments(args: Sequence[str]) -> dict[str, object] | None:
    """`audit_command`'s keyword arguments for a plain ``earlypath audit`` command line, or None.

    Plain: INPUT once, ``--out``, each option in full as ``--name value`` or ``--name=value``
    (only ``--group-by`` repeated), no value that is empty or starts with a dash, and
    ``--suppress-below`` a whole number. Such a line means the same to typer; typer's parsing
    imports pydantic (0.13 s, a third of a small audit's start-up), so `earlypath.cli.main`
    runs it without typer. Anything else (help, an unknown, repeated or missing option, an odd
    value) is None: typer parses it and words its errors as ever."""
    found: dict[str, object] = {}
    group_by: list[str] = []
    source: str | None = None
    tokens = iter(args)
    for token in tokens:
        if not _plain(token):
            return None
        if token in _AUDIT_FLAGS:
            if _AUDIT_FLAGS[token] in found:
                return None
            found[_AUDIT_FLAGS[token]] = True
            continue
        name, equals, value = token.partition("=")
        if name in _AUDIT_OPTIONS:
            value = value if equals else next(tokens, "")
            if not value or value.startswith("-") or not _plain(value):
                return None
            key = _AUDIT_OPTIONS[name]
            if key == "group_by":
                group_by.append(value)
            elif key in found:
                return None
            else:
                found[key] = value
            continue
        if token.startswith("-") or source is not None:
            return None
        source = token
    if source is None or "out" not in found:
        return None
    if "suppress_below" in found:
        count = str(found["suppress_below"])
        if not (count.isascii() and count.isdigit()):
            return None
        found["suppress_below"] = int(count)
    found["source"], found["out"] = Path(source), Path(str(found["out"]))
    if group_by:
        found["group_by"] = group_by
    return found


def _plain(token: str) -> bool:
    """Not empty, and UTF-8 text (a name the system could not decode is left to typer)."""
    try:
        token.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(token)


def audit_failure(error: Exception) -> tuple[int, list[str]]:
    """The exit code and the stderr lines for an audit that failed on purpose: every engine's
    error for the same bad input maps to the same code and words here."""
    from earlypath.errors import EarlypathError, InputError, exit_code

    if isinstance(error, InputError):
        return exit_code(error), [str(problem) for problem in error.problems]
    if isinstance(error, EarlypathError):  # ReconciliationError, OutputError (a bad --out)
        return exit_code(error), [f"error: {error}"]
    # A ValueError from an engine's reader: unreadable input format, missing required column.
    return EXIT_INPUT, [f"INPUT: {error}"]
