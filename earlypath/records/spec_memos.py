"""Answers about a definition's row specs, kept for the process (issue 16: a warm reading).

Every reading asks the same questions of the same definition: what each resource type is
read for (`ibis_compile.read_schema`: a walk of every node of every row spec) and which joined
tables can hold no row (`needed_joins.never_found`: another walk). A warm DuckDB reading of a
one-woman export asked each twice, 0.18-0.29 CPU s of its 6-7 (CHANGELOG, stop 49, w-warm49).
The specs are frozen dataclasses (`earlypath.records.ir`), so the answer for one spec object
never changes: it is kept by the object's identity, with the object itself (so its id is not
reused while kept), a few at most.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["by_identity"]

T = TypeVar("T")

# the definitions a process reads with: the audit's, the card's, and the tests' own few
_KEPT = 32


def _frozen(value: Any) -> bool:
    params = getattr(type(value), "__dataclass_params__", None)
    if params is not None:
        return bool(params.frozen)
    # a tuple of frozen row specs (``spec.rows``), itself immutable
    return isinstance(value, tuple) and all(_frozen(v) for v in value)


def by_identity(compute: Callable[[Any], T], copied: bool = False) -> Callable[[Any], T]:
    """``compute(spec)``, kept for each frozen ``spec`` object (anything else is computed every
    time). With ``copied``, each caller gets its own deep copy (a mutable answer stays the
    caller's to change)."""
    kept: OrderedDict[int, tuple[Any, T]] = OrderedDict()

    def remembered(spec: Any) -> T:
        if not _frozen(spec):
            return compute(spec)
        entry = kept.get(id(spec))
        if entry is None or entry[0] is not spec:
            entry = (spec, compute(spec))
            kept[id(spec)] = entry
            if len(kept) > _KEPT:
                kept.popitem(last=False)
        return copy.deepcopy(entry[1]) if copied else entry[1]

    remembered.__doc__ = compute.__doc__
    remembered.__wrapped__ = compute  # type: ignore[attr-defined]
    remembered.cache_clear = kept.clear  # type: ignore[attr-defined]
    return remembered
