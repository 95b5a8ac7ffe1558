"""Errors raised by the impact model. Each maps to exit code 2 in the CLI (bad or refused input)."""

from __future__ import annotations

from earlypath.errors import EarlypathError


class ImpactError(EarlypathError):
    """Base class for the impact model's deliberate errors."""

    exit_code = 2


class UnverifiedCountError(ImpactError):
    """A trial statistic was asked of counts that are missing or not verified against the paper.

    The model refuses rather than guesses: a percentage printed in a press release is not a count.
    """


class ParameterError(ImpactError):
    """An unknown parameter name, or a value outside the parameter's allowed range."""


class UnknownScenarioError(ImpactError):
    """No scenario has that name."""
