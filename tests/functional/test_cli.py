"""The installed `earlypath` command, end to end (a real subprocess, as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "earlypath"
EXAMPLES = Path(__file__).resolve().parents[2] / "earlypath" / "examples"
ELIGIBLE = EXAMPLES / "01-eligible-offer.json"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_assess_file_prints_json_and_exits_0() -> None:
    r = run("assess", str(ELIGIBLE))
    assert r.returncode == 0, r.stderr
    a = json.loads(r.stdout)
    assert a["progesterone"]["decision"] == "offer"
    assert a["progesterone"]["plan"]["stop_on"] == "2024-05-06"


def test_assess_stdin_and_text_format() -> None:
    r = run("assess", "-", "--format", "text", stdin=ELIGIBLE.read_text())
    assert r.returncode == 0
    assert "OFFER progesterone" in r.stdout and "1.5.2" in r.stdout


def test_stop_at_policy_option() -> None:
    r = run("assess", str(ELIGIBLE), "--stop-at", "16+6")
    assert json.loads(r.stdout)["progesterone"]["plan"]["stop_on"] == "2024-05-12"
    assert run("assess", str(ELIGIBLE), "--stop-at", "17+0").returncode == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vaginal_bleding": True}, "vaginal_bleding"),
        ({"previous_miscarriages": -1}, "previous_miscarriages"),
        ({"lmp": "2024-02-31"}, "lmp"),
    ],
)
def test_invalid_input_exits_2_naming_the_field(change: dict, field: str) -> None:
    episode = {**json.loads(ELIGIBLE.read_text()), **change}
    r = run("assess", "-", stdin=json.dumps(episode))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines()[0].startswith(f"{field}:")


def test_missing_file_exits_2() -> None:
    assert run("assess", "/nonexistent/episode.json").returncode == 2


def test_many_keeps_order_and_goes_past_bad_lines(tmp_path: Path) -> None:
    good = json.loads(ELIGIBLE.read_text())
    lines = [
        json.dumps(good),
        json.dumps({**good, "previous_miscarriages": 0}),
        '{"assessed_on": "2024-13-01"}',
        "",
        json.dumps({**good, "vaginal_bleeding": None}),
    ]
    path = tmp_path / "episodes.jsonl"
    path.write_text("\n".join(lines) + "\n")
    r = run("assess", "--many", str(path))
    assert r.returncode == 2
    out = [json.loads(line) for line in r.stdout.splitlines()]
    decisions = [o["progesterone"]["decision"] if "progesterone" in o else o for o in out]
    assert decisions == [
        "offer",
        "do_not_offer",
        {
            "line": 3,
            "errors": [{"field": "assessed_on", "message": decisions[2]["errors"][0]["message"]}],
        },
        "needs_information",
    ]
    assert "line 3: assessed_on:" in r.stderr


def test_many_goes_past_a_line_that_is_not_utf8_or_past_the_date_range(tmp_path: Path) -> None:
    good = json.dumps(json.loads(ELIGIBLE.read_text())).encode()
    far = good.replace(b"2024-03-04", b"9999-12-31").replace(b"2024-01-15", b"9999-11-01")
    path = tmp_path / "episodes.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + good + b"\n" + b'{"assessed_on": "\xff"}\n' + far + b"\n" + good
    )
    r = subprocess.run([str(BIN), "assess", "--many", str(path)], capture_output=True, timeout=60)
    assert r.returncode == 2, r.stderr
    out = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [o.get("line") for o in out] == [None, 2, 3, None]
    assert out[1]["errors"] == [{"field": "(line)", "message": "is not UTF-8 text"}]
    assert out[2]["errors"][0]["field"] == "assessed_on"
    assert out[0]["progesterone"]["decision"] == out[3]["progesterone"]["decision"] == "offer"
    err = r.stderr.decode()
    assert "line 2: (line): is not UTF-8 text" in err and "line 3: assessed_on: must be" in err
    assert "internal error" not in err and err.rstrip().endswith("2 line(s) rejected")


def test_many_from_stdin_in_text_format_marks_a_bad_line() -> None:
    good = json.dumps(json.loads(ELIGIBLE.read_text())).encode()
    r = subprocess.run(
        [str(BIN), "assess", "--many", "-", "--format", "text"],
        input=good + b"\n\x80\n" + good + b"\n",
        capture_output=True,
        timeout=60,
    )
    assert r.returncode == 2
    out = r.stdout.decode()
    assert out.count("OFFER progesterone") == 2
    assert "line 2: not assessed: (line): is not UTF-8 text" in out


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_input_that_is_not_utf8_exits_2_naming_the_file(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "episode.json"
    path.write_bytes(ELIGIBLE.read_text().replace("[]", '["café"]').encode(encoding))
    r = run("assess", str(path))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"FILE: {path} is not UTF-8 text")
    piped = subprocess.run(
        [str(BIN), "assess", "-"], input=path.read_bytes(), capture_output=True, timeout=60
    )
    assert piped.returncode == 2 and piped.stderr.decode().startswith("FILE: stdin is not UTF-8")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_many_in_utf16_is_refused_as_a_whole(tmp_path: Path, encoding: str) -> None:
    # Read line by line, it gave one 'not UTF-8' line, then 'not valid JSON' for the others.
    good = json.dumps(json.loads(ELIGIBLE.read_text()))
    path = tmp_path / "episodes.jsonl"
    path.write_bytes(f"{good}\n{good}\n".encode(encoding))
    r = run("assess", "--many", str(path))
    assert r.returncode == 2 and r.stdout == ""
    assert (
        r.stderr.strip()
        == f"FILE: {path} is not UTF-8 text (JSON must be UTF-8: save it as UTF-8, not UTF-16)"
    )


def test_schema_command_prints_json_schema() -> None:
    r = run("schema")
    assert r.returncode == 0
    assert json.loads(r.stdout)["additionalProperties"] is False


def test_examples_command_assesses_the_bundled_episodes() -> None:
    r = run("examples", "--format", "json")
    assert r.returncode == 0
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == len(list(EXAMPLES.glob("*.json")))
    assert {row["assessment"]["progesterone"]["decision"] for row in rows} >= {"offer", "stop"}


def test_internal_error_exits_1_without_patient_data(monkeypatch, capsys) -> None:
    import earlypath.engines.python as engine
    from earlypath import cli

    def broken(*args, **kwargs):
        raise RuntimeError("lmp=2024-01-15 secret")

    monkeypatch.setattr(engine, "assess", broken)
    monkeypatch.setattr(engine, "assess_json", broken)  # the JSON text path (issue 16)
    monkeypatch.setattr(sys, "argv", ["earlypath", "assess", str(ELIGIBLE)])
    with pytest.raises(SystemExit) as caught:
        cli.main()
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError)" in err and "2024-01-15" not in err


def test_cli_prints_exactly_what_the_library_returns() -> None:
    from earlypath import assess

    for path in sorted(EXAMPLES.glob("*.json")):
        r = run("assess", str(path))
        assert json.loads(r.stdout) == assess(json.loads(path.read_text())), path.name


def test_text_format_shows_the_pathway_sections_that_apply() -> None:
    r = run("assess", str(EXAMPLES / "03-pregnancy-of-unknown-location.json"), "--format", "text")
    assert r.returncode == 0
    assert (
        "hCG: NEEDS INFORMATION before a decision  [needs_information;" in r.stdout
        and "missing: hcg" in r.stdout
    )
    # Every section is shown (issue 13); one that does not apply says so on one line.
    assert "Ectopic management: not applicable" in r.stdout
