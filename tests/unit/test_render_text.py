"""`--format text` (issue 13, finding 6): every section with its decision, citations, reasons,
options, regimen and dates, so a clinician can act on it without the JSON."""

from __future__ import annotations

from typing import Any

from earlypath import assess
from earlypath.guideline.pathway import PathwayPolicy
from earlypath.render_text import render_text

ECTOPIC: dict[str, Any] = {
    "assessed_on": "2024-03-06",
    "lmp": "2024-01-25",
    "previous_miscarriages": 0,
    "vaginal_bleeding": True,
    "heavy_bleeding": False,
    "previous_ectopic": False,
    "pain": "none",
    "haemodynamically_unstable": False,
    "scans": [{"date": "2024-03-06", "location": "ectopic", "fetal_heartbeat": False}],
    "hcg": [{"taken_at": "2024-03-03T08:00:00", "iu_per_l": 800}],
    "adnexal_mass_mm": 20.0,
    "able_to_return_for_follow_up": True,
    "ectopic_ruptured": False,
}
MISSED: dict[str, Any] = {
    "assessed_on": "2024-03-04",
    "lmp": "2024-01-08",
    "vaginal_bleeding": True,
    "miscarriage_diagnosed": True,
    "miscarriage_type": "missed",
    "scans": [
        {"date": "2024-02-26", "location": "intrauterine", "fetal_pole": False, "msd_mm": 18.0},
        {
            "date": "2024-03-04",
            "location": "intrauterine",
            "fetal_pole": True,
            "fetal_heartbeat": False,
            "crl_mm": 9.0,
        },
    ],
}


def test_every_section_is_shown_with_its_decision_and_versioned_citation() -> None:
    text = render_text(assess(ECTOPIC))
    for title in ("Referral:", "Scan:", "hCG:", "Ectopic management:", "Anti-D:"):
        assert title in text
    assert "Miscarriage management: not applicable (No miscarriage has been diagnosed.)" in text
    assert "Ectopic management: needs_information  [NG126 2023-08-23: " in text


def test_ectopic_reasons_options_and_schedule_with_overdue_steps() -> None:
    text = render_text(assess(ECTOPIC, pathway_policy=PathwayPolicy(hcg_max_age_days=3)))
    assert "Ectopic management: expectant" in text
    assert "  - She is pain free." in text
    assert "  options: expectant, methotrexate" in text
    assert "follow-up if expectant:" in text
    assert "day 2: 2024-03-06 serum hCG  OVERDUE (was due 2024-03-05): do it now" in text
    assert "day 14: 2024-03-20 serum hCG, then weekly until negative" in text


def test_a_stale_hcg_is_shown_with_its_age_and_the_request_for_a_new_sample() -> None:
    text = render_text(assess(ECTOPIC))
    assert "hcg age days: 3" in text
    assert "Take a new sample now" in text
    assert "missing: hcg" in text


def test_miscarriage_regimen_and_dates() -> None:
    text = render_text(assess(MISSED))
    assert "Miscarriage management: expectant" in text
    assert "    day 0: mifepristone 200 mg, oral" in text
    assert "    48 hours after mifepristone: misoprostol 800 micrograms" in text
    assert "    from: 2024-03-11" in text and "    to: 2024-03-18" in text
    assert "urine pregnancy test on: 2024-03-25" in text
    assert "Scan: second_scan_done" in text


def test_referral_reasons_and_missing_facts() -> None:
    episode = {**ECTOPIC, "heavy_bleeding": None}
    text = render_text(assess(episode))
    assert "Referral: needs_information" in text
    assert "missing: heavy_bleeding" in text
    assert "significant concern about the degree of bleeding is not recorded" in text
