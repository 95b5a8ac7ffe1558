"""Run a coroutine to the end from a test, whatever loop the test process already has running.

The sync Playwright API of the browser tests keeps an event loop running in the main thread for
the rest of the session, and `asyncio.run` refuses to start inside it: the coroutine gets its
own loop in a worker thread instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
