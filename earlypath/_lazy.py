"""Names a package loads when first asked for (PEP 562), written once for the packages that do
(`earlypath`, `earlypath.fhir`, `earlypath.guideline`).

A package maps each public name to the module that defines it, and its module-level
``__getattr__`` calls `load`. This module imports nothing of earlypath's: it is read at every
start, before any of the names it loads (issue 16: start-up)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any


def load(namespace: dict[str, Any], homes: Mapping[str, str], name: str) -> Any:
    """``name`` from the module ``homes`` gives for it, kept in ``namespace`` (the package's
    globals) so that later lookups find it there and never come back here; an `AttributeError`
    naming the package for a name it does not have."""
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    namespace[name] = value
    return value


def listed(namespace: Mapping[str, Any], homes: Mapping[str, str]) -> list[str]:
    """The package's ``dir()``: the names it holds and those it would load."""
    return sorted({*namespace, *homes})
