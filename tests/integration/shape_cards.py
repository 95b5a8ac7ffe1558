"""What the real-record vignettes check the same way, in one place: the one card the ASGI app
answers a patient-view call with, and the DuckDB audit's decision for each group of shapes of an
`export_per_shape` export (`tests.fhir_exports.audited_by_shape`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tests.fhir_exports import Export, audited_by_shape
from tests.integration.fhir_data import hook_request, prefetch_for

PV = "/cds-services/ng126-progesterone"


def the_card(client: Any, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The single card of a patient-view call with ``resources`` prefetched (status 200)."""
    response = client.post(PV, json=hook_request("patient-view", prefetch_for(resources)))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    return dict(card)


def audited_shapes(
    export: Export, shapes: Iterable[str], folder: Path
) -> dict[str, dict[str, Any]]:
    """Each shape's episode from one DuckDB audit of ``export``: every shape, and only them."""
    episodes = audited_by_shape(export, folder)
    assert sorted(episodes) == sorted(shapes)
    return episodes


def assert_decided(
    episodes: Mapping[str, Mapping[str, Any]],
    shapes: Iterable[str],
    decision: str,
    missing: str | None = None,
) -> None:
    """Each of ``shapes`` decided ``decision``, naming ``missing`` among what it needs."""
    for shape in shapes:
        assert episodes[shape]["decision"] == decision, shape
        if missing is not None:
            assert missing in episodes[shape]["missing"], shape
