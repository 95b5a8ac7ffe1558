"""The JWT replay cache and the service URL used as the audience."""

from __future__ import annotations

import time

from earlypath.web.security import ReplayCache


def test_replay_cache_remembers_until_expiry():
    cache = ReplayCache()
    exp = time.time() + 60
    assert cache.check_and_add("iss", "a", exp) is True
    assert cache.check_and_add("iss", "a", exp) is False
    assert cache.check_and_add("other-iss", "a", exp) is True
    expired = time.time() - 3600
    assert cache.check_and_add("iss", "old", expired) is True
    assert cache.check_and_add("iss", "old", expired) is True  # long expired: forgotten


def test_replay_cache_prunes():
    cache = ReplayCache()
    for i in range(1100):
        cache.check_and_add("iss", str(i), time.time() - 3600)
    cache.check_and_add("iss", "new", time.time() + 60)
    assert len(cache._seen) < 1100
