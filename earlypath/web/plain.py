"""Plain English for the page for women: the engine's decision, said simply.

Wording only: each sentence is chosen by the engine's decision, its criteria (by id and value)
and its advice ids. Nothing here decides anything. Aim: reading age about 11 (short sentences,
common words). The page never tells a woman to start or stop a medicine herself.
"""

from __future__ import annotations

from typing import Any

HEADLINES = {
    "offer": "NICE says you should be offered progesterone",
    "continue": "NICE says progesterone can carry on until you are 16 weeks pregnant",
    "stop": "NICE's advice on progesterone may have changed for you",
    "do_not_offer": "NICE does not suggest progesterone for you right now",
    "needs_information": "We cannot tell yet",
}

OFFER_TEXT = [
    "Progesterone is a hormone that helps a pregnancy in the first weeks.",
    "NICE says it should be offered to women who are bleeding, who have had a miscarriage "
    "before, and whose scan shows the pregnancy is in the womb.",
    "The medicine is a capsule or pessary that goes into your vagina, twice a day, until you "
    "are 16 weeks pregnant.",
    "Your doctor will check that it is safe for you first. Some progesterone capsules contain "
    "soya, so tell them if you have a peanut or soya allergy.",
]

# Why not, by criterion id, when the engine found the criterion false.
NOT_MET = {
    "intrauterine": "Your scan did not show the pregnancy in the womb. Progesterone is only for "
    "a pregnancy in the womb.",
    "bleeding": "You said you are not bleeding. NICE's advice on progesterone is for women who "
    "are bleeding.",
    "previous_miscarriage": "You said you have not had a miscarriage before. A large study found "
    "that progesterone did not help women who had not had a miscarriage before.",
    "before_stop": "You are 16 weeks pregnant or more. Progesterone is only used up to 16 weeks.",
    "no_miscarriage_diagnosed": "A miscarriage has been found, so progesterone would not help.",
    "no_recommendation_in_version": "The NICE advice in use on this date did not include progesterone.",
}

# What already fits, by criterion id, when the engine found the criterion true.
MET = {
    "intrauterine": "Your scan showed the pregnancy is in your womb.",
    "bleeding": "You are bleeding.",
    "previous_miscarriage": "You have had a miscarriage before.",
}

# What is still unknown, by the engine's missing field.
MISSING = {
    "scans": "whether a scan has shown the pregnancy is in your womb",
    "vaginal_bleeding": "whether you are bleeding",
    "previous_miscarriages": "how many miscarriages you have had before",
    "lmp": "how many weeks pregnant you are (the first day of your last period helps)",
    "miscarriage_diagnosed": "whether a miscarriage has been found",
}

ADVICE = {
    "fourteen_day_bleeding_advice": "If the bleeding gets worse, or lasts more than 14 days, go "
    "back to your doctor or early pregnancy unit. If it stops, carry on with your usual "
    "pregnancy care.",
    "rescan_for_heartbeat": "You may be asked to come back for another scan to see the baby's "
    "heartbeat.",
}

ASK = [
    "Has a scan shown that my pregnancy is in my womb?",
    "Could progesterone help me? (NICE guideline NG126, recommendation 1.5.2.)",
    "Is progesterone safe for me with my allergies and health?",
    "What should I do if the bleeding gets worse?",
]

SUPPORT = [
    {
        "name": "The Miscarriage Association",
        "url": "https://www.miscarriageassociation.org.uk/",
        "what": "Support and information if you are worried about miscarriage or have had one.",
    },
    {
        "name": "Tommy's",
        "url": "https://www.tommys.org/",
        "what": "Information about pregnancy and baby loss, and a midwife you can talk to.",
    },
    {
        "name": "NHS 111",
        "url": "https://111.nhs.uk/",
        "what": "Call 111 or go online for urgent advice, any time of day or night.",
    },
]


def explain(assessment: dict[str, Any]) -> dict[str, Any]:
    """What the page says for this assessment: headline, sentences, unknowns, advice."""
    p = assessment["progesterone"]
    decision = p["decision"]
    criteria = p["trace"]["criteria"]
    why: list[str] = []
    if decision == "offer":
        why = list(OFFER_TEXT)
    elif decision == "do_not_offer":
        why = [
            NOT_MET[c["criterion"]]
            for c in criteria
            if c["value"] == "false" and c["criterion"] in NOT_MET
        ]
        why += [
            NOT_MET[c["criterion"]]
            for c in criteria
            if c["criterion"] == "no_recommendation_in_version"
        ]
    elif decision in ("continue", "stop"):
        why = ["Your doctor or midwife will talk to you about your progesterone."]
    so_far: list[str] = []
    if decision == "needs_information":
        so_far = [
            MET[c["criterion"]] for c in criteria if c["value"] == "true" and c["criterion"] in MET
        ]
    missing = [MISSING.get(m, m.replace("_", " ")) for m in p["missing"]]
    advice = [ADVICE[a["id"]] for a in p["advice"] if a["id"] in ADVICE]
    stop_on = (p.get("plan") or {}).get("stop_on")
    return {
        "decision": decision,
        "headline": HEADLINES[decision],
        "why": why,
        "so_far": so_far,
        "missing": missing,
        "advice": advice,
        "stop_on": stop_on,
        "recommendations": p["recommendations"],
        "version": assessment["guideline"]["version"],
    }
