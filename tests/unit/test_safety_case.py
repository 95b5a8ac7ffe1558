"""The clinical safety case stays true: every control names tests that exist, ratings follow the
risk matrix, and the Markdown hazard log matches the machine-readable one."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAFETY = ROOT / "docs" / "safety"
REQUIRED_THEMES = {
    "HAZ-01": "ectopic",
    "HAZ-02": "eligible",
    "HAZ-03": "stop date",
    "HAZ-04": "peanut",
    "HAZ-05": "version",
    "HAZ-06": "FHIR",
    "HAZ-07": "Unknown read as False",
    "HAZ-08": "hCG category",
    "HAZ-09": "Anti-D",
}


def load_log() -> dict[str, Any]:
    return json.loads((SAFETY / "hazard-log.json").read_text(encoding="utf-8"))


LOG = load_log()
HAZARDS = LOG["hazards"]


def named_tests() -> list[str]:
    return sorted({test for h in HAZARDS for c in h["controls"] for test in c["verified_by"]})


@cache
def collected(files: tuple[str, ...]) -> frozenset[str]:
    """Node ids pytest collects from the files the log names (in a subprocess, so this run's
    own collection is untouched)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ids = {line.strip() for line in result.stdout.splitlines() if "::" in line}
    assert ids, f"collection failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return frozenset(ids)


def test_the_required_hazards_are_logged() -> None:
    by_id = {h["id"]: h for h in HAZARDS}
    for hazard_id, theme in REQUIRED_THEMES.items():
        assert theme.lower() in by_id[hazard_id]["title"].lower(), hazard_id


@pytest.mark.parametrize("hazard", HAZARDS, ids=[h["id"] for h in HAZARDS])
def test_each_hazard_is_complete_and_rated_by_the_matrix(hazard: dict[str, Any]) -> None:
    for key in ("title", "causes", "effect", "harm", "controls", "status"):
        assert hazard[key], key
    matrix = LOG["risk_matrix"]["rating_by_likelihood_then_severity"]
    for stage in ("initial", "residual"):
        risk = hazard[stage]
        assert 1 <= risk["severity"] <= 5 and 1 <= risk["likelihood"] <= 5
        assert risk["rating"] == matrix[str(risk["likelihood"])][risk["severity"] - 1], stage
    assert hazard["residual"]["rating"] <= hazard["initial"]["rating"]
    assert any(c["verified_by"] for c in hazard["controls"]), "no control is verified by a test"


def test_every_test_a_hazard_names_exists() -> None:
    tests = named_tests()
    files = tuple(sorted({t.split("::")[0] for t in tests}))
    for file in files:
        assert (ROOT / file).is_file(), file
    missing = [t for t in tests if t not in collected(files)]
    assert not missing, f"the hazard log names tests that do not exist: {missing}"


def test_markdown_log_is_rendered_from_the_json_log() -> None:
    spec = importlib.util.spec_from_file_location("render", SAFETY / "render_hazard_log.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render(LOG)
    actual = (SAFETY / "hazard-log.md").read_text(encoding="utf-8")
    assert actual == expected, "run: .venv/bin/python docs/safety/render_hazard_log.py"


def test_safety_case_document_exists_and_points_to_the_log() -> None:
    text = (SAFETY / "clinical-safety-case.md").read_text(encoding="utf-8")
    for heading in ("Scope", "Intended use", "Responsibilities", "Residual risk"):
        assert f"## {heading}" in text, heading
    assert "hazard-log.md" in text
