"""Load the clinical vignettes (tests/spec/vignettes/*.json): episode in, expected decision out.

Each file has named base episodes; a vignette names a base and the changes to it (a shallow
merge), so each vignette states exactly what it is about. Other engines' tests import this.
"""

from __future__ import annotations

import copy
import json
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


def load_vignettes(topic: str | None = None) -> list[Vignette]:
    out: list[Vignette] = []
    for path in sorted(FOLDER.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if topic and data["topic"] != topic:
            continue
        bases = data.get("bases", {})
        for v in data["vignettes"]:
            episode = copy.deepcopy(bases[v["base"]]) if "base" in v else {}
            episode.update(copy.deepcopy(v.get("changes", v.get("episode", {}))))
            out.append(
                Vignette(
                    id=v["id"],
                    topic=data["topic"],
                    recommendation=v["recommendation"],
                    episode=episode,
                    expect=v["expect"],
                    about=v.get("about", ""),
                    policy=v.get("policy", {}),
                )
            )
    ids = [v.id for v in out]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate vignette ids: {sorted(duplicates)}")
    return out
