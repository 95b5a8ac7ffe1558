"""The impact model's errors, defined with every other error in `earlypath.errors`.

Re-exported here so ``from earlypath.impact.errors import ParameterError`` keeps working.
"""

from __future__ import annotations

from earlypath.errors import (
    ImpactError,
    ParameterError,
    UnknownScenarioError,
    UnverifiedCountError,
)

__all__ = ["ImpactError", "ParameterError", "UnknownScenarioError", "UnverifiedCountError"]
