"""The error hierarchy. Each error maps to one CLI exit code (see cli.py).

Messages name the input field at fault and never echo a whole record, so they are safe to log.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: the field (a path such as ``scans[0].crl_mm``) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class EarlypathError(Exception):
    """Base class for every error earlypath raises on purpose."""

    exit_code = 1


class InputError(EarlypathError):
    """The input broke the contract. Carries one `Problem` per fault, each naming its field."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class UnknownGuidelineVersion(InputError):
    """No NG126 version was in force on the date asked, or an unknown version was named."""


class OutputError(EarlypathError):
    """The outputs cannot be written where asked (``--out`` is the input, not writable, the
    disk is full), or a folder read back is not a complete set. The message names the path."""

    exit_code = 2
