"""A scan without its date (the episode contract requires one) is a clear error naming the
field when an episode is flattened, not a TypeError from comparing dates."""

from __future__ import annotations

import pytest

from earlypath.audit.flat import episode_to_flat
from earlypath.errors import CellError


def test_a_scan_without_a_date_is_named() -> None:
    episode = {
        "assessed_on": "2024-03-04",
        "scans": [
            {"date": "2024-03-01", "location": "intrauterine"},
            {"location": "intrauterine"},
        ],
    }
    with pytest.raises(CellError, match=r"scans\[\]\.date"):
        episode_to_flat(episode)


def test_the_latest_dated_scan_is_kept() -> None:
    episode = {
        "assessed_on": "2024-03-04",
        "scans": [
            {"date": "2024-03-04", "location": "intrauterine"},
            {"date": "2024-03-01", "location": "unknown"},
        ],
    }
    assert episode_to_flat(episode)["scan_location"] == "intrauterine"
