"""`benchmarks/cds_replay.py`: the 50-connection replay through the service's own protocol
answers every request with the expected answer and serves the connections in turn (each request
waits for each other connection's once), for the CDS service and the hello-world baseline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cds_replay  # noqa: E402


@pytest.mark.parametrize("which", ["cds", "hello"])
def test_the_replay_serves_the_connections_in_turn(which: str) -> None:
    figures = cds_replay._in_process(ROOT, which, requests=40, connections=5, warm=10)
    assert figures["requests"] == 40
    waited = figures["others_answered_while_waiting"]
    assert (waited["min"], waited["max"], waited["share_at_connections_less_one"]) == (4, 4, 1.0)
    latency = figures["cpu_latency"]
    assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
