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
    assert (
        "Ectopic management: NEEDS INFORMATION before a decision  [needs_information; NG126 2023-08-23: "
        in text
    )


def test_ectopic_reasons_options_and_schedule_with_overdue_steps() -> None:
    text = render_text(assess(ECTOPIC, pathway_policy=PathwayPolicy(hcg_max_age_days=3)))
    assert "Ectopic management: Expectant management is first line  [expectant;" in text
    assert "  - She is pain free." in text
    assert "  options: expectant management, methotrexate" in text
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
    assert "Miscarriage management: Expectant management for 7 to 14 days is first line" in text
    assert "    day 0: mifepristone 200 mg, oral" in text
    assert "    48 hours after mifepristone: misoprostol 800 micrograms" in text
    assert "    from: 2024-03-11" in text and "    to: 2024-03-18" in text
    assert "urine pregnancy test on: 2024-03-25" in text
    assert "Scan: Second scan done: a diagnosis of miscarriage may rest on both scans" in text


def test_referral_reasons_and_missing_facts() -> None:
    episode = {**ECTOPIC, "heavy_bleeding": None}
    text = render_text(assess(episode))
    assert "Referral: NEEDS INFORMATION before a decision  [needs_information;" in text
    assert "missing: heavy_bleeding" in text
    assert "significant concern about the degree of bleeding is not recorded" in text


def test_decisions_and_token_values_are_in_words_with_the_token_beside_them() -> None:
    seen = {"haemodynamically_unstable": False, "pain": "none", "heavy_bleeding": False}
    text = render_text(assess({**MISSED, **seen}))
    assert "Gestation: 6+6 (48 days, dated by crown-rump length on scan)" in text
    assert "  destination: early pregnancy assessment unit" in text
    assert "  first line: expectant management" in text
    assert (
        "  medical regimen: mifepristone 200 mg, then misoprostol 800 micrograms 48 hours later"
        in text
    )
    assert "medical regimen decision:" not in text
    assert "[second_scan_done; NG126 2023-08-23: " in text


def test_a_section_with_no_numbered_recommendation_says_so() -> None:
    episode = {**MISSED, "miscarriage_diagnosed": False, "miscarriage_type": None}
    episode["scans"] = [{**MISSED["scans"][-1], "fetal_heartbeat": True}]
    text = render_text(assess(episode))
    assert "Scan: No further scan needed for viability (heartbeat seen)  [none; NG126 " in text
    assert "no numbered recommendation]" in text and ": none]" not in text


def test_an_old_hcg_pair_points_to_its_age_in_words() -> None:
    episode = {
        "assessed_on": "2024-03-06",
        "lmp": "2024-01-25",
        "scans": [{"date": "2024-02-20", "location": "unknown"}],
        "hcg": [
            {"taken_at": "2024-02-20T09:00:00", "iu_per_l": 1000},
            {"taken_at": "2024-02-22T09:00:00", "iu_per_l": 1100},
        ],
    }
    text = render_text(assess(episode))
    assert "  second sample days ago: 13" in text
    assert "(its age is given as second sample days ago)" in text
    assert "second_sample_days_ago" not in text and "next step below" not in text
