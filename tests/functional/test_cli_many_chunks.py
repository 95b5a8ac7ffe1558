"""`earlypath assess --many` writes its output lines in chunks (issue 16): across chunk
boundaries every input line that is not blank still has its output line, in input order, and an
internal error still leaves the lines assessed before it written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "earlypath"
ELIGIBLE = Path(__file__).resolve().parents[2] / "earlypath" / "examples" / "01-eligible-offer.json"
BAD = {1, 255, 256, 257, 512, 600}  # around the chunk boundaries (256 lines a write)


def episode_lines(count: int) -> list[str]:
    good = json.loads(ELIGIBLE.read_text())
    lines = []
    for number in range(1, count + 1):
        if number in BAD:
            lines.append('{"assessed_on": "2024-13-01"}')
        else:  # each line shows where it is by its previous miscarriages (0 to 6, in turn)
            lines.append(json.dumps({**good, "previous_miscarriages": number % 7}))
    return lines


def test_every_line_has_its_output_line_in_order_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "episodes.jsonl"
    lines = episode_lines(600)
    path.write_text("\n".join(lines[:300]) + "\n\n" + "\n".join(lines[300:]) + "\n")
    r = subprocess.run(
        [str(BIN), "assess", "--many", str(path)], capture_output=True, timeout=300, check=False
    )
    assert r.returncode == 2
    out = [json.loads(line) for line in r.stdout.decode("utf-8").splitlines()]
    assert len(out) == 600
    for number, answer in enumerate(out, start=1):
        # Line numbers count the blank line (input line 301 is blank).
        if number in BAD:
            assert answer["line"] == (number if number <= 300 else number + 1)
        else:
            facts = answer["progesterone"]["trace"]["criteria"]
            seen = [c["facts"] for c in facts if "previous_miscarriages" in c["facts"]]
            assert seen == [{"previous_miscarriages": number % 7}]


def test_an_internal_error_leaves_the_lines_before_it_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    import earlypath.engines.python as engine
    from earlypath import cli

    real = engine.assess_json
    calls = {"n": 0}

    def breaks_on_the_300th(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 300:
            raise RuntimeError("lmp=2024-01-15 secret")
        return real(*args, **kwargs)

    path = tmp_path / "episodes.jsonl"
    good = json.loads(ELIGIBLE.read_text())
    path.write_text("\n".join(json.dumps(good) for _ in range(400)) + "\n")
    monkeypatch.setattr(engine, "assess_json", breaks_on_the_300th)
    monkeypatch.setattr(sys, "argv", ["earlypath", "assess", "--many", str(path)])
    with pytest.raises(SystemExit) as caught:
        cli.main()
    assert caught.value.code == 1
    captured = capsysbinary.readouterr()
    written = captured.out.decode("utf-8").splitlines()
    assert len(written) == 299
    assert all(json.loads(line)["progesterone"]["decision"] == "offer" for line in written)
    assert b"internal error (RuntimeError)" in captured.err and b"2024-01-15" not in captured.err
