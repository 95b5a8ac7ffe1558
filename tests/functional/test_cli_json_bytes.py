"""`earlypath assess` and `assess --many` print exactly the bytes json.dumps printed before the
fast encoder (issue 16): a real subprocess, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from earlypath import assess, parse_episode_json
from earlypath.policy import Policy
from earlypath.render_text import render_text

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_assess import generate  # noqa: E402

BIN = Path(sys.executable).parent / "earlypath"

# Non-ASCII text, and measurements orjson alone would write in another float form.
SPECIAL = [
    {
        "assessed_on": "2024-03-01",
        "lmp": "2024-01-10",
        "vaginal_bleeding": True,
        "previous_miscarriages": 0,
        "allergies": ["pénicilline — “rash” 中文 😀"],
        "scans": [
            {"date": "2024-02-28", "location": "intrauterine", "fetal_heartbeat": True, "crl_mm": 9}
        ],
    },
    {
        "assessed_on": "2024-03-01",
        "scans": [{"date": "2024-02-28", "location": "unknown", "msd_mm": 0.00001}],
        "hcg": [
            {"taken_at": "2024-02-20T08:00:00", "iu_per_l": 0.0000031},
            {"taken_at": "2024-02-22T09:00:00", "iu_per_l": 1500},
        ],
    },
]


def reference(text: str, policy: Policy) -> str:
    data = assess(parse_episode_json(text), policy)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, timeout=120, check=False
    )


def test_many_prints_the_same_bytes_as_json_dumps(tmp_path: Path) -> None:
    lines = generate(400, seed=5) + [json.dumps(e, ensure_ascii=False) for e in SPECIAL]
    path = tmp_path / "episodes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for policy, args in ((Policy(), []), (Policy(stop_at="16+6"), ["--stop-at", "16+6"])):
        r = run("assess", "--many", str(path), *args)
        assert r.returncode == 0, r.stderr
        want = "".join(reference(line, policy) + "\n" for line in lines)
        assert r.stdout == want.encode("utf-8")


def test_many_from_stdin_and_as_text() -> None:
    lines = [json.dumps(e, ensure_ascii=False) for e in SPECIAL]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    r = run("assess", "--many", "-", stdin=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "".join(reference(x, Policy()) + "\n" for x in lines).encode("utf-8")
    r = run("assess", "--many", "-", "--format", "text", stdin=data)
    assert r.returncode == 0, r.stderr
    want = "".join(render_text(assess(parse_episode_json(x))) + "\n" for x in lines)
    assert r.stdout == want.encode("utf-8")


def test_one_assessment_prints_the_same_bytes_as_json_dumps() -> None:
    for episode in SPECIAL:
        text = json.dumps(episode, ensure_ascii=False)
        r = run("assess", "-", stdin=text.encode("utf-8"))
        assert r.returncode == 0, r.stderr
        assert r.stdout == (reference(text, Policy()) + "\n").encode("utf-8")
