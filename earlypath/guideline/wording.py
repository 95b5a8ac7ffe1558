"""The words a clinician reads for each decision and token value (the text output).

The JSON keeps the machine tokens (``early_pregnancy_unit``); a person reading the text output
gets these words with the token beside them. One place, beside the rules that give the tokens,
so a new outcome without words is caught by a test (tests/unit/test_guideline_wording.py).
"""

from __future__ import annotations

# Shared by every section.
COMMON: dict[str, str] = {
    "needs_information": "NEEDS INFORMATION before a decision",
    "not_applicable": "not applicable",
}

DECISION_WORDS: dict[str, dict[str, str]] = {
    "referral": {
        "emergency_care": "Refer her to A&E (emergency care) now",
        "early_pregnancy_unit": "Refer her to the early pregnancy assessment unit",
        "no_referral": "No referral: management in the community",
    },
    "scan_assessment": {
        "none": "No further scan needed for viability (heartbeat seen)",
        "rescan": "Second scan needed before any diagnosis of miscarriage",
        "second_opinion_or_rescan": "Second opinion and/or second scan before any diagnosis",
        "second_scan_done": "Second scan done: a diagnosis of miscarriage may rest on both scans",
        "second_opinion_done": "Second opinion done: NICE accepts it in place of a second scan",
    },
    "hcg_assessment": {
        "rise_over_63": "hCG rose by more than 63% in 48 hours",
        "fall_over_50": "hCG fell by more than 50% in 48 hours",
        "other": "hCG changed by between a 50% fall and a 63% rise in 48 hours",
    },
    "ectopic_management": {
        "expectant": "Expectant management is first line",
        "methotrexate": "Methotrexate is first line",
        "surgery": "Surgery is first line",
        "choice_methotrexate_or_surgery": "Offer a choice of methotrexate or surgery",
    },
    "miscarriage_management": {
        "expectant": "Expectant management for 7 to 14 days is first line",
        "no_management_needed": "No management of retained tissue needed (complete miscarriage)",
        "confirm_diagnosis_first": "Confirm the diagnosis first: no miscarriage management yet",
    },
    "medical_regimen": {
        "misoprostol_800": "misoprostol 800 micrograms",
        "misoprostol_600": "misoprostol 600 micrograms",
        "mifepristone_200_then_misoprostol_800": (
            "mifepristone 200 mg, then misoprostol 800 micrograms 48 hours later"
        ),
        "confirm_diagnosis_first": "none until the diagnosis is confirmed",
    },
    "anti_d": {
        "offer": "Offer anti-D immunoglobulin",
        "consider": "Consider anti-D immunoglobulin",
        "do_not_offer": "Do not offer anti-D",
    },
}

# Token values of other section fields, by field name.
VALUE_WORDS: dict[str, dict[str, str]] = {
    "next_step": {
        "none": "none",
        "rescan": "second scan",
        "second_opinion_or_rescan": "second opinion and/or second scan",
        "transvaginal_scan": "transvaginal scan",
        "urine_pregnancy_test": "urine pregnancy test",
        "epu_review_within_24h": "early pregnancy unit review within 24 hours",
        "repeat_hcg_pair_48h_apart": "a new pair of hCG samples 48 hours apart",
        "read_scan_report": "read the scan report (it could not be read)",
    },
    "destination": {
        "emergency_care": "A&E (emergency care)",
        "early_pregnancy_unit": "early pregnancy assessment unit",
        "no_referral": "community (no referral)",
    },
    "first_line": {
        "expectant": "expectant management",
        "methotrexate": "methotrexate",
        "surgery": "surgery",
    },
    "options": {
        "expectant": "expectant management",
        "methotrexate": "methotrexate",
        "surgery": "surgery",
    },
    "category": {
        "rise_over_63": "rise of more than 63%",
        "fall_over_50": "fall of more than 50%",
        "other": "between a 50% fall and a 63% rise",
    },
    "basis": {"lmp": "last menstrual period", "crl": "crown-rump length on scan"},
}


def decision_words(table: str, outcome: str) -> str:
    """The words for a table's outcome (the token itself if none are written)."""
    return DECISION_WORDS.get(table, {}).get(outcome) or COMMON.get(outcome, outcome)


def value_words(field: str, value: str) -> str:
    """The words for a token value of a section field (the value itself if it is not a token)."""
    return VALUE_WORDS.get(field, {}).get(value, value)
