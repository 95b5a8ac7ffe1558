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
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["COMPILE_THRESHOLDS", "fewer_collections"]

# (young allocations, young collections a middle one, middle collections an old one)
COMPILE_THRESHOLDS = (50_000, 20, 20)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Within: the collector's thresholds raised to `COMPILE_THRESHOLDS` (never lowered: a
    process that set higher ones keeps them); after, the thresholds it had."""
    before = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(before, COMPILE_THRESHOLDS, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
