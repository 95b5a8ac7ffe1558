"""Python's cyclic garbage collector run less often while a reading plan is compiled.

A cold compile makes millions of short-lived objects (ibis nodes, validated and rebuilt by
each rewrite; sqlglot trees), and with the default thresholds (a young collection every 700
allocations more than frees) the collector ran about 6,200 times in one compile of the read
definition, 7.5 of its 37 CPU s (w-plans51, stop 51). Collections only free memory: the SQL
compiled is the same whatever the thresholds. With a young collection every 50,000 it ran 51
times (1.7 CPU s), and the peak memory of the process grew by about 2% (cycles freed later).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["COMPILE_THRESHOLDS", "fewer_collections"]

# (young allocations, young collections a middle one, middle collections an old one)
COMPILE_THRESHOLDS = (50_000, 20, 20)


# compiles under way in this process (threads), and the thresholds from before the first:
# the last to end puts those back (each putting back its own "before" could leave a second
# compile's raised ones in place for good)
_LOCK = threading.Lock()
_ACTIVE: list[tuple[int, int, int]] = []


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Within: the collector's thresholds raised to `COMPILE_THRESHOLDS` (never lowered: a
    process that set higher ones keeps them); after the last compile under way, the
    thresholds it had."""
    with _LOCK:
        if not _ACTIVE:
            before = gc.get_threshold()
            raised = (max(a, b) for a, b in zip(before, COMPILE_THRESHOLDS, strict=True))
            gc.set_threshold(*raised)
        else:
            before = _ACTIVE[0]
        _ACTIVE.append(before)
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE.pop()
            if not _ACTIVE:
                gc.set_threshold(*before)
