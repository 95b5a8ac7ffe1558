"""Load the clinical vignettes (tests/spec/vignettes/*.json): episode in, expected decision out.

Each file has named base episodes; a vignette names a base and the changes to it (a shallow
merge), so each vignette states exactly what it is about. Other engines' tests import this.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent / "vignettes"


@dataclass(frozen=True)
class Vignette:
    id: str
    topic: str
    recommendation: str
    episode: dict[str, Any]
    expect: dict[str, Any]
    about: str = ""
    policy: dict[str, Any] = field(default_factory=dict)


def read_vignettes(
    folder: Path, topic: str | None = None
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(topic, vignette, episode)`` for every vignette in a folder's JSON files, in file then
    list order, the episode being the named base with the vignette's changes merged in."""
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if topic and data["topic"] != topic:
            continue
        bases = data.get("bases", {})
        for v in data["vignettes"]:
            episode = copy.deepcopy(bases[v["base"]]) if "base" in v else {}
            episode.update(copy.deepcopy(v.get("changes", v.get("episode", {}))))
            yield data["topic"], v, episode


def unique_ids(vignettes: list[Any]) -> list[Any]:
    """The vignettes, if no two share an id (test ids must name one vignette each)."""
    ids = [v.id for v in vignettes]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate vignette ids: {sorted(duplicates)}")
    return vignettes


def load_vignettes(topic: str | None = None) -> list[Vignette]:
    return unique_ids(
        [
            Vignette(
                id=v["id"],
                topic=found,
                recommendation=v["recommendation"],
                episode=episode,
                expect=v["expect"],
                about=v.get("about", ""),
                policy=v.get("policy", {}),
            )
            for found, v, episode in read_vignettes(FOLDER, topic)
        ]
    )
