"""Keep Python's cyclic garbage collector from pausing CDS calls.

After start-up the process holds about 100k tracked objects (FastAPI, pydantic, the guideline,
the value sets) that live as long as it does. A full (generation 2) collection walks all of them:
about 0.1 s on the shared 2-core machine, and under load one falls inside somebody's call every
few seconds, which is what a p99 sees. `gc.freeze()` moves everything alive at start-up to a
permanent generation the collector no longer walks, so later collections only look at objects
made since. Garbage is collected first, so nothing dead is kept.
"""

from __future__ import annotations

import gc

_settled = False


def settle_heap() -> None:
    """Collect once, then freeze what survives start-up (once per process; later calls do
    nothing, so tests that build many apps pay for it once)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
