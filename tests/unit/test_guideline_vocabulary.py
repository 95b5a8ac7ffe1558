"""The guideline package has no import circle: topic modules use the shared vocabulary, and
only the registry (`pathway`) imports the topic modules. Old import paths keep working."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import earlypath.guideline

GUIDELINE = Path(earlypath.guideline.__file__).parent
TOPICS = ("progesterone", "scans", "hcg", "ectopic", "miscarriage", "anti_d", "referral")


def _guideline_imports(module: str) -> set[str]:
    tree = ast.parse((GUIDELINE / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "earlypath.guideline":
                found.update(f"earlypath.guideline.{a.name}" for a in node.names)
            elif node.module.startswith("earlypath.guideline."):
                found.add(node.module)
    return found


@pytest.mark.parametrize("module", (*TOPICS, "vocabulary", "versions"))
def test_no_module_below_the_registry_imports_it(module: str) -> None:
    assert "earlypath.guideline.pathway" not in _guideline_imports(module)


def test_the_vocabulary_imports_no_topic_module() -> None:
    topics = {f"earlypath.guideline.{t}" for t in TOPICS}
    assert not _guideline_imports("vocabulary") & topics


@pytest.mark.parametrize("module", (*TOPICS, "vocabulary", "pathway"))
def test_each_module_imports_alone(module: str) -> None:
    # A fresh interpreter, so an import order that only works after another module is loaded
    # would fail here.
    code = f"import earlypath.guideline.{module}"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_old_import_paths_still_work() -> None:
    from earlypath.guideline import pathway, progesterone, vocabulary

    for name in ("NOT_APPLICABLE", "IS_ECTOPIC", "IS_PUL", "Section", "PathwayPolicy"):
        assert getattr(pathway, name) is getattr(vocabulary, name)
    assert progesterone.IS_ECTOPIC is vocabulary.IS_ECTOPIC
    assert progesterone.IS_INTRAUTERINE is vocabulary.IS_INTRAUTERINE
    assert [s.name for s in pathway.sections()] == [
        "referral",
        "scan_assessment",
        "hcg_assessment",
        "ectopic_management",
        "miscarriage_management",
        "anti_d",
    ]
