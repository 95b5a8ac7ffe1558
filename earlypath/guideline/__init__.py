"""NG126 as data built from the rule IR, one module per topic, every rule versioned.

The names below are loaded when first asked for (PEP 562), so importing the small
`earlypath.guideline.versions` (the audit's summary) does not load the progesterone table and,
through the facts, the episode contract (pydantic): a warm audit's start-up (issue 16)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from earlypath._lazy import listed as _listed
from earlypath._lazy import load as _load

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
    return _load(globals(), _HOME, name)


def __dir__() -> list[str]:
    return _listed(globals(), _HOME)
