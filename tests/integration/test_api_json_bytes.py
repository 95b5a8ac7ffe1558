"""POST /api/assess answers exactly the bytes json.dumps gave before the fast encoder (issue 16)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from earlypath import assess, parse_episode_json

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_assess import generate  # noqa: E402

TINY_AND_NON_ASCII = {
    "assessed_on": "2024-03-01",
    "allergies": ["pénicilline — 😀"],
    "scans": [{"date": "2024-02-28", "location": "unknown", "msd_mm": 0.00001}],
}


def test_api_assess_bytes_equal_json_dumps(client) -> None:
    texts = [*generate(60, seed=9), json.dumps(TINY_AND_NON_ASCII, ensure_ascii=False)]
    for text in texts:
        response = client.post("/api/assess", content=text.encode("utf-8"))
        assert response.status_code == 200
        data = assess(parse_episode_json(text))
        want = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        assert response.content == want.encode("utf-8")
