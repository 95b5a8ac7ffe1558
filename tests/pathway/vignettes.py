"""Load the pathway vignettes (tests/pathway/vignettes/*.json): episode in, expected section out.

Same shape as the progesterone spec (tests/spec): each file has a ``topic`` (the assessment
section it checks: referral, scan_assessment, hcg_assessment, ectopic_management,
miscarriage_management, anti_d, progesterone), named base episodes, and vignettes that name a
base plus changes (a shallow merge). ``expect`` always has ``decision`` (the section's main
table outcome, which every engine must agree on); ``other_decisions`` gives the outcomes of the
section's other tables (for example ``medical_regimen``); any other key is a field of the
section (dotted for nested fields, list items by index) checked on the reference engine only;
``sections`` gives the decisions of *other* sections for the same episode.

Batch engines: use ``v.decisions`` (table name -> outcome, ``main`` for the section's decision)
with ``earlypath.guideline.pathway.sections()`` and ``v.pathway_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.spec.vignettes import read_vignettes, unique_ids

FOLDER = Path(__file__).parent / "vignettes"


@dataclass(frozen=True)
class PathwayVignette:
    id: str
    topic: str
    recommendation: str
    episode: dict[str, Any]
    expect: dict[str, Any]
    about: str = ""
    pathway_policy: dict[str, Any] = field(default_factory=dict)

    @property
    def decisions(self) -> dict[str, str]:
        """The categorical outcomes: ``{"main": decision, other table name: outcome, ...}``."""
        return {"main": self.expect["decision"], **self.expect.get("other_decisions", {})}

    @property
    def section_decisions(self) -> dict[str, str]:
        """Every section decision the vignette fixes: its own topic's and those in ``sections``."""
        return {self.topic: self.expect["decision"], **self.expect.get("sections", {})}


def load_pathway_vignettes(topic: str | None = None) -> list[PathwayVignette]:
    """Every pathway vignette (or one topic's), in file then list order."""
    return unique_ids(
        [
            PathwayVignette(
                id=v["id"],
                topic=found,
                recommendation=v["recommendation"],
                episode=episode,
                expect=v["expect"],
                about=v.get("about", ""),
                pathway_policy=v.get("pathway_policy", {}),
            )
            for found, v, episode in read_vignettes(FOLDER, topic)
        ]
    )
