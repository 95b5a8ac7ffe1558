"""NG126 as data built from the rule IR, one module per topic, every rule versioned.

The names below are loaded when first asked for (PEP 562), so importing the small
`earlypath.guideline.versions` (the audit's summary) does not load the progesterone table and,
through the facts, the episode contract (pydantic): a warm audit's start-up (issue 16)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from earlypath.guideline.progesterone import progesterone_table
    from earlypath.guideline.versions import (
        BY_VERSION,
        VERSIONS,
        GuidelineVersion,
        resolve_version,
        version_in_force,
    )

__all__ = [
    "BY_VERSION",
    "VERSIONS",
    "GuidelineVersion",
    "progesterone_table",
    "resolve_version",
    "version_in_force",
]

_HOME = {name: "earlypath.guideline.versions" for name in __all__} | {
    "progesterone_table": "earlypath.guideline.progesterone"
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
