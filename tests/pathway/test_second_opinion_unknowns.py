"""A second opinion stands in for a second scan only at NICE's sizes (NG126 1.4.7, 1.4.10): when
the size or route that decides it is not recorded, the miscarriage section asks for it rather
than refusing management (or giving it) on an assumption."""

from __future__ import annotations

from earlypath import assess

SINGLE_SCAN_NO_POLE = {
    "assessed_on": "2024-03-04",
    "lmp": "2024-01-08",
    "vaginal_bleeding": True,
    "scans": [
        {
            "date": "2024-03-04",
            "route": "transvaginal",
            "location": "intrauterine",
            "fetal_pole": False,
            "fetal_heartbeat": False,
        }
    ],
    "miscarriage_diagnosed": True,
    "miscarriage_type": "missed",
    "second_opinion_no_heartbeat": True,
}


def test_unrecorded_msd_with_a_second_opinion_names_the_msd() -> None:
    section = assess(SINGLE_SCAN_NO_POLE)["miscarriage_management"]
    assert section["decision"] == "needs_information"
    assert "scans.msd_mm" in section["missing"]


def test_without_a_second_opinion_an_unmeasured_first_scan_is_confirm_first() -> None:
    episode = {**SINGLE_SCAN_NO_POLE, "second_opinion_no_heartbeat": False}
    assert assess(episode)["miscarriage_management"]["decision"] == "confirm_diagnosis_first"
