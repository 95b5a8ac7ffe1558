"""The CPU seconds a process spends compiling reading plans (`ibis_compile._record_plan`, called
only when no kept plan is found): one wrapper for the benchmarks and plugins that count them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def on_each_compile(told: Callable[[float], None]) -> None:
    """From now on, ``told`` the CPU seconds of each plan compiled in this process, as it ends."""
    from earlypath.records import ibis_compile

    record_plan = ibis_compile._record_plan

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return record_plan(*args, **kwargs)
        finally:
            told(time.process_time() - start)

    ibis_compile._record_plan = timed  # type: ignore[assignment]
