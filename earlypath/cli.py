"""The command line: parses arguments, calls the library, maps errors to exit codes.

Exit codes: 0 success; 2 invalid input (one line per problem on stderr, naming the field);
1 internal error. No patient data is ever logged.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

if TYPE_CHECKING:
    import typer

from earlypath.errors import EXIT_INPUT, EarlypathError, InputError, Problem, exit_code
from earlypath.policy import Policy

# Commands whose modules are heavy (numpy, ibis, FastAPI) are imported only when run, so
# `earlypath assess` starts in a fraction of a second.
LAZY_COMMANDS = {
    "serve": "earlypath.web.serve:serve",
    "audit": "earlypath.audit.commands:audit_command",
    "synth": "earlypath.audit.commands:synth_command",
    "impact": "earlypath.impact.command:impact_command",
    "valuesets": "earlypath.fhir.valueset_command:valuesets_command",
}


def __getattr__(name: str) -> Any:
    """``app``, the typer app, built on first use (PEP 562): a plain ``earlypath audit`` line
    (`main`) runs without importing typer (issue 16: start-up)."""
    if name == "app":
        return _build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _build_app() -> typer.Typer:
    # The commands below name `typer` in their annotations and bodies: it is this module's
    # global from here on (they only run through the app).
    global typer
    import typer
    from typer.core import TyperGroup

    class _LazyGroup(TyperGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            return [*super().list_commands(ctx), *LAZY_COMMANDS]

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            target = LAZY_COMMANDS.get(cmd_name)
            if target is None:
                return super().get_command(ctx, cmd_name)
            module, _, attr = target.partition(":")
            # No completion options: typer's would offer --install-completion on each lazy
            # command, and the completion script it installs cannot reach commands loaded
            # this way.
            single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
            single.command(cmd_name)(getattr(importlib.import_module(module), attr))
            return typer.main.get_command(single)

    app = typer.Typer(
        cls=_LazyGroup,
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        help="earlypath: NICE NG126 early pregnancy decisions, explained.",
    )
    app.callback()(_main_options)
    for command in (assess, schema, examples):
        app.command()(command)
    return app


def _show_version(value: bool) -> None:
    if value:
        from earlypath import __version__

        typer.echo(f"earlypath {__version__}")
        raise typer.Exit()


def _main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_show_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """earlypath: NICE NG126 early pregnancy decisions, explained."""


def _policy(stop_at: str) -> Policy:
    if stop_at not in ("16+0", "16+6"):
        _fail_input([f"--stop-at: must be 16+0 or 16+6, not {stop_at!r}"])
    return Policy(stop_at=stop_at)  # type: ignore[arg-type]


def _fail_input(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(EXIT_INPUT)


def _read(source: str) -> str:
    data = sys.stdin.buffer.read() if source == "-" else _checked(source).read_bytes()
    text = _utf8(data)
    if text is None:
        _fail_input([f"FILE: {'stdin' if source == '-' else source} {NOT_UTF8}"])
    return text  # type: ignore[return-value]


NOT_UTF8 = "is not UTF-8 text (JSON must be UTF-8: save it as UTF-8, not UTF-16)"


def _utf8(data: bytes, first: bool = True) -> str | None:
    """``data`` decoded as UTF-8 (a leading byte-order mark dropped), or None if it is not."""
    try:
        return data.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return None


def _dumps(data: object) -> str:
    from earlypath.json_text import dumps  # the same text as json.dumps, faster

    return dumps(data)


def assess(
    source: Annotated[
        str, typer.Argument(metavar="FILE", help="Episode JSON file, or - for stdin.")
    ],
    many: Annotated[
        bool,
        typer.Option(
            "--many",
            help="FILE is JSON Lines: one episode per line. A bad line gives an error line "
            '{"line": N, "errors": [...]} and exit code 2 at the end; the other lines go on.',
        ),
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", help="json (default) or text.")
    ] = "json",
    stop_at: Annotated[
        str, typer.Option("--stop-at", help="Policy: stop progesterone at 16+0 (default) or 16+6.")
    ] = "16+0",
) -> None:
    """Assess an episode (or, with --many, one episode per line) and print the assessment."""
    from earlypath.engines.python import assess as run_assessment
    from earlypath.model import parse_episode_json

    if output_format not in ("json", "text"):
        _fail_input([f"--format: must be json or text, not {output_format!r}"])
    policy = _policy(stop_at)
    fmt: Literal["json", "text"] = output_format  # type: ignore[assignment]
    from earlypath.engines.python import assess_json  # the JSON text path (issue 16)
    from earlypath.model import Episode

    if fmt == "text":  # the words' modules only when they are shown
        from earlypath.render_text import render_text

    def show(episode: Episode) -> bytes:
        """The output line of one episode (UTF-8, with its newline)."""
        if fmt == "text":
            return (render_text(run_assessment(episode, policy)) + "\n").encode("utf-8")
        return assess_json(episode, policy) + b"\n"

    if not many:
        try:
            episode = parse_episode_json(_read(source))
            typer.echo(show(episode).decode("utf-8"), nl=False)
        except InputError as error:
            _fail_input([str(p) for p in error.problems])
        return

    # Bytes, decoded line by line: a line that is not UTF-8 is one bad line, not the end.
    # Output lines are written in chunks (one write per _CHUNK lines), in input order.
    bad = 0
    stream = sys.stdin.buffer if source == "-" else open(_checked(source), "rb")  # noqa: SIM115
    sys.stdout.flush()
    out = sys.stdout.buffer
    pending: list[bytes] = []
    try:
        with stream:
            for number, data in enumerate(stream, start=1):
                if number == 1 and data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 or 32
                    _fail_input([f"FILE: {'stdin' if source == '-' else source} {NOT_UTF8}"])
                line = _utf8(data, first=number == 1)
                if line is not None and not line.strip():
                    continue
                try:
                    if line is None:
                        raise InputError([Problem("(line)", "is not UTF-8 text")])
                    pending.append(show(parse_episode_json(line)))
                except InputError as error:
                    bad += 1
                    for problem in error.problems:
                        typer.echo(f"line {number}: {problem}", err=True)
                    pending.append(
                        (_line_error(number, error.problems, fmt) + "\n").encode("utf-8")
                    )
                if len(pending) >= _CHUNK:
                    out.write(b"".join(pending))
                    pending.clear()
    finally:  # the lines assessed so far are written even if an internal error stops the run
        out.write(b"".join(pending))
        out.flush()
    if bad:
        typer.echo(f"{bad} line(s) rejected", err=True)
        raise typer.Exit(EXIT_INPUT)


_CHUNK = 256  # output lines per write in `assess --many`


def _line_error(number: int, problems: list[Problem], fmt: str) -> str:
    """The output line of a rejected input line (every line that is not blank has its output
    line, in input order): in JSON ``{"line": N, "errors": [{"field": ..., "message": ...}]}`` (the API's error shape)."""
    if fmt == "text":
        return f"line {number}: not assessed: " + "; ".join(str(p) for p in problems)
    errors = [{"field": p.field, "message": p.message} for p in problems]
    return _dumps({"line": number, "errors": errors})


def _checked(source: str) -> Path:
    path = Path(source)
    if not path.is_file():
        _fail_input([f"FILE: {source} is not a readable file"])
    return path


def schema() -> None:
    """Print the JSON Schema of the episode (the input contract)."""
    from earlypath.model import episode_json_schema  # pydantic: only for the commands using it

    typer.echo(json.dumps(episode_json_schema(), indent=2))


def examples(
    output_format: Annotated[
        str, typer.Option("--format", help="text (default) or json.")
    ] = "text",
) -> None:
    """Assess the bundled example episodes and print the decisions."""
    from importlib import resources

    from earlypath.engines.python import assess as run_assessment
    from earlypath.model import parse_episode_json
    from earlypath.render_text import render_text

    if output_format not in ("text", "json"):
        _fail_input([f"--format: must be text or json, not {output_format!r}"])
    folder = resources.files("earlypath") / "examples"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        assessment = run_assessment(parse_episode_json(item.read_text(encoding="utf-8")))
        if output_format == "json":
            typer.echo(_dumps({"example": item.name, "assessment": assessment}))
        else:
            typer.echo(f"== {item.name}")
            typer.echo(render_text(assessment) + "\n")


def main() -> None:
    """Entry point: run the app, turning unexpected errors into exit 1 without a data dump."""
    from earlypath.audit.command_line import echo  # as typer.echo, without importing typer

    try:
        if not _plain_audit(sys.argv[1:]):
            _build_app()()
    except EarlypathError as error:
        echo(f"error: {error}", err=True)
        sys.exit(exit_code(error))
    except Exception as error:  # noqa: BLE001 - last line of defence; no patient data printed
        echo(f"internal error ({type(error).__name__}); please report it", err=True)
        sys.exit(exit_code(error))


def _plain_audit(args: list[str]) -> bool:
    """Run ``earlypath audit`` with a plain command line without typer (its import, its app and
    its parsing, which imports pydantic for its coercion: issue 16, start-up); False, having
    done nothing, for any other command line. The audit and its messages and exit codes are the
    same either way (`earlypath.audit.command_line`)."""
    if args[:1] != ["audit"] or any(name.endswith("_COMPLETE") for name in os.environ):
        return False
    from earlypath.audit.command_line import audit_line, plain_audit_arguments

    arguments = plain_audit_arguments(args[1:])
    if arguments is None:
        return False
    # As typer's standalone mode ends a command:
    try:
        code = audit_line(**arguments)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # the reader of stdout went away: quietly, exit 1
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    if code:
        sys.exit(code)
    return True


if __name__ == "__main__":
    main()
