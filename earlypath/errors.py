"""Every error earlypath raises on purpose, in one place, and the exit code of each.

Messages name the input field, setting or path at fault and never echo a whole record, so
they are safe to log. The command line turns an error into its exit code with `exit_code`
(used by ``earlypath.cli.main`` and by the audit and impact commands), so a class's code is
defined once, here.

The tree, with the exit code of each::

    EarlypathError                 1  base class; anything unexpected is also 1
    ├── InputError                 2  the input broke the contract; one Problem per fault
    │   ├── UnknownGuidelineVersion 2 no NG126 version in force on that date, or unknown name
    │   └── ValueSetError          2  a value-set file that cannot be used (names the file)
    ├── OutputError                2  outputs cannot be written where asked (names the path)
    ├── ConfigError                2  a setting is missing or malformed: the service will not start
    ├── ImpactError                2  the impact model refuses its input
    │   ├── UnverifiedCountError   2  counts missing or not verified against the trial paper
    │   ├── ParameterError         2  unknown parameter, or a value out of its range
    │   └── UnknownScenarioError   2  no scenario has that name
    └── ReconciliationError        3  audit rows lost or doubled; nothing is written
    CellError (a ValueError)          one audit cell against its column's grammar; the audit
                                      turns it into a reject row, never an exit

Exit codes: 0 done; 1 internal error (a bug: reported without data); 2 bad or refused input,
setting or output path; 3 the audit's counts do not reconcile.

Not here, on purpose: the web service's own signals (refusals, authentication, prefetch and
replay-store failures in ``earlypath.web``) become HTTP responses, not exit codes, and stay
private to the module that raises and catches them.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_RECONCILIATION = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: the field (a path such as ``scans[0].crl_mm``) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class EarlypathError(Exception):
    """Base class for every error earlypath raises on purpose."""

    exit_code = EXIT_INTERNAL


class InputError(EarlypathError):
    """The input broke the contract. Carries one `Problem` per fault, each naming its field."""

    exit_code = EXIT_INPUT

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class UnknownGuidelineVersion(InputError):
    """No NG126 version was in force on the date asked, or an unknown version was named."""


class ValueSetError(InputError):
    """A value-set file that cannot be used; each problem names the file (never patient data)."""


class OutputError(EarlypathError):
    """The outputs cannot be written where asked (``--out`` is the input, not writable, the
    disk is full), or a folder read back is not a complete set. The message names the path."""

    exit_code = EXIT_INPUT


class ConfigError(EarlypathError):
    """A setting is missing or malformed: the service refuses to start, naming the setting."""

    exit_code = EXIT_INPUT


class ImpactError(EarlypathError):
    """Base class for the impact model's deliberate errors (bad or refused input)."""

    exit_code = EXIT_INPUT


class UnverifiedCountError(ImpactError):
    """A trial statistic was asked of counts that are missing or not verified against the paper.

    The model refuses rather than guesses: a percentage printed in a press release is not a count.
    """


class ParameterError(ImpactError):
    """An unknown parameter name, or a value outside the parameter's allowed range."""


class UnknownScenarioError(ImpactError):
    """No scenario has that name."""


class ReconciliationError(EarlypathError):
    """Rows were lost or doubled: rows_in != evaluated + rejected. Nothing is written."""

    exit_code = EXIT_RECONCILIATION


class CellError(ValueError):
    """A cell of a flat audit input that does not follow the grammar of its column."""


def exit_code(error: BaseException) -> int:
    """The command line's exit code for ``error``: its class's code, or 1 for anything we did
    not raise on purpose."""
    if isinstance(error, EarlypathError):
        return error.exit_code
    return EXIT_INTERNAL
