"""NG126 as data built from the rule IR, one module per topic, every rule versioned."""

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
