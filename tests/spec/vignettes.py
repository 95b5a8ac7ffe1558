"""The guideline's vignettes, one format for every section (tests/spec/vignettes/*.json).

Each file has a ``topic`` (the assessment section it checks: progesterone, referral,
scan_assessment, hcg_assessment, ectopic_management, miscarriage_management, anti_d), named base
episodes, and vignettes that name a base plus ``changes`` (a shallow merge), so each vignette
states exactly what it is about. ``policy`` (progesterone policy settings) and
``pathway_policy`` (pathway settings) are optional.

``expect`` always has ``decision`` (the section's main table outcome). Checked on every engine:
``decision``, ``other_decisions`` (the outcomes of the section's other tables, e.g.
``medical_regimen``), ``sections`` (the decisions of *other* sections for the same episode),
``recommendations``, ``missing`` and ``assessment.guideline.version``. Any other key is a dotted
path (list items by index) checked on the reference engine only: into the section, or, when it
starts with ``assessment.``, into the whole assessment (``assessment.gestation.days``).
``advice`` compares the advice ids, on every engine that gives them (the batch engines give the
progesterone section's); ``ratio`` compares approximately.

Batch engines: use ``v.decisions`` (table name -> outcome, ``main`` for the section's decision)
with ``earlypath.guideline.pathway.sections()``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).parent / "vignettes"
# Checked on every engine (batch engines give these); everything else on python only.
ALL_ENGINES = {"decision", "other_decisions", "sections", "recommendations", "missing"}
VERSION = "assessment.guideline.version"


@dataclass(frozen=True)
class Vignette:
    id: str
    topic: str
    recommendation: str
    episode: dict[str, Any]
    expect: dict[str, Any]
    about: str = ""
    policy: dict[str, Any] = field(default_factory=dict)
    pathway_policy: dict[str, Any] = field(default_factory=dict)

    @property
    def decisions(self) -> dict[str, str]:
        """The categorical outcomes: ``{"main": decision, other table name: outcome, ...}``."""
        return {"main": self.expect["decision"], **self.expect.get("other_decisions", {})}

    @property
    def section_decisions(self) -> dict[str, str]:
        """Every section decision the vignette fixes: its own topic's and those in ``sections``."""
        return {self.topic: self.expect["decision"], **self.expect.get("sections", {})}

    @property
    def settings(self) -> tuple[tuple, tuple]:
        """The policy and pathway settings, as a key to batch vignettes by."""
        return tuple(sorted(self.policy.items())), tuple(sorted(self.pathway_policy.items()))


def _read(folder: Path) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(topic, vignette, episode)`` for every vignette, in file then list order."""
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        bases = data.get("bases", {})
        for v in data["vignettes"]:
            episode = copy.deepcopy(bases[v["base"]]) if "base" in v else {}
            episode.update(copy.deepcopy(v.get("changes", {})))
            yield data["topic"], v, episode


def load_vignettes(topic: str | None = None, folder: Path = FOLDER) -> list[Vignette]:
    """Every vignette (or one topic's), in file then list order; ids are unique."""
    vignettes = [
        Vignette(
            id=v["id"],
            topic=found,
            recommendation=v["recommendation"],
            episode=episode,
            expect=v["expect"],
            about=v.get("about", ""),
            policy=v.get("policy", {}),
            pathway_policy=v.get("pathway_policy", {}),
        )
        for found, v, episode in _read(folder)
        if topic is None or found == topic
    ]
    ids = [v.id for v in vignettes]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate vignette ids: {sorted(duplicates)}")
    return vignettes


def lookup(value: Any, path: str) -> Any:
    """The value at a dotted path (list items by index)."""
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def check(v: Vignette, assessment: dict[str, Any], engine: str = "python") -> None:
    """Assert ``assessment`` (one engine's, see `tests.engine_fixture`) meets ``v.expect``."""
    section = assessment[v.topic]
    assert section["decision"] == v.expect["decision"], v.about or v.id
    for name, outcome in v.expect.get("other_decisions", {}).items():
        assert section["other_decisions"][name]["decision"] == outcome, name
    for topic, outcome in v.expect.get("sections", {}).items():
        assert assessment[topic]["decision"] == outcome, topic
    for name in ("recommendations", "missing"):
        if name in v.expect:
            assert section[name] == v.expect[name], name
    if VERSION in v.expect:
        assert lookup(assessment, VERSION.removeprefix("assessment.")) == v.expect[VERSION]
    # The advice ids: on every engine that gives them (the batch engines, for progesterone).
    if "advice" in v.expect and (engine == "python" or "advice" in section):
        ids = [a if isinstance(a, str) else a["id"] for a in section["advice"]]
        assert ids == v.expect["advice"], "advice"
    if engine != "python":
        return
    for path, expected in v.expect.items():
        if path in ALL_ENGINES or path in (VERSION, "advice"):
            continue
        if path.startswith("assessment."):
            actual = lookup(assessment, path.removeprefix("assessment."))
        else:
            actual = lookup(section, path)
        if path == "ratio" and isinstance(actual, float):
            assert actual == pytest.approx(expected), path
        else:
            assert actual == expected, path
