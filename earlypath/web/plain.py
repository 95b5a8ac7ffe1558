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
    "scan_report": "what your scan report says (it has not been read yet)",
    "vaginal_bleeding": "whether you are bleeding",
    "previous_miscarriages": "how many miscarriages you have had before",
    "lmp": "how many weeks pregnant you are (the first day of your last period helps)",
    "miscarriage_diagnosed": "whether a miscarriage has been found",
}

# A scan with no heartbeat (or no baby seen yet) and what NICE asks for before anyone diagnoses a
# miscarriage (NG126 1.4.6-1.4.11, the progesterone table's `viability_1_4_x` advice). She has
# just been told; each says what happens next and that one scan is not enough, without promising.
_ONE_SCAN = "One scan is not enough to know what this means."
_SEVEN_DAYS = (
    "You should be offered another scan at least 7 days after this one, before anyone can say "
    "what is happening."
)
_OPINION = (
    "To be sure, another specialist should check your scan, or you should have a second scan at "
    "least 7 days after this one, or both."
)
_TUMMY = (
    "This scan was done through your tummy. You should have another scan at least 14 days after "
    "this one, before anyone can say what is happening."
)
_TUMMY_IF = (
    "If this scan was done through your tummy, your next scan should be at least 14 days after "
    "this one instead."
)
_CHECK_HOW = (
    "Your doctor needs to check how your scans were done. You may need one more scan, at least 14 "
    "days after your first one, before anyone can say what is happening."
)
VIABILITY = {
    "viability_1_4_6": f"Your scan did not see a heartbeat. It may be too early to see one. "
    f"{_ONE_SCAN} {_SEVEN_DAYS}",
    "viability_1_4_7": f"Your scan did not see a heartbeat. {_ONE_SCAN} {_OPINION}",
    "viability_1_4_8": f"Your scan did not see a heartbeat. {_ONE_SCAN} {_TUMMY}",
    "viability_1_4_9": f"Your scan did not see the baby yet. It may be too early to see it. "
    f"{_ONE_SCAN} {_SEVEN_DAYS}",
    "viability_1_4_10": f"Your scan did not see the baby. {_ONE_SCAN} {_OPINION}",
    "viability_1_4_11": f"Your scan did not see the baby. {_ONE_SCAN} {_TUMMY}",
    # The scan's route is not recorded: the step after a scan inside, then after one through
    # her tummy (the `..._route_unknown` advice comes in that order).
    "viability_1_4_6_route_unknown": f"Your scan did not see a heartbeat. It may be too early to "
    f"see one. {_ONE_SCAN} {_SEVEN_DAYS}",
    "viability_1_4_7_route_unknown": f"Your scan did not see a heartbeat. {_ONE_SCAN} {_OPINION}",
    "viability_1_4_9_route_unknown": f"Your scan did not see the baby yet. It may be too early to "
    f"see it. {_ONE_SCAN} {_SEVEN_DAYS}",
    "viability_1_4_10_route_unknown": f"Your scan did not see the baby. {_ONE_SCAN} {_OPINION}",
    "viability_1_4_8_route_unknown": _TUMMY_IF,
    "viability_1_4_11_route_unknown": _TUMMY_IF,
    # A second scan 7 to 13 days after the first, a route not recorded: not yet known if it is
    # enough.
    "viability_1_4_8_second_scan_route_unknown": f"Your scan did not see a heartbeat. {_CHECK_HOW}",
    "viability_1_4_11_second_scan_route_unknown": f"Your scan did not see the baby. {_CHECK_HOW}",
}
# Only with an offer: NG126 1.5.2 needs a scan showing the pregnancy in the womb, not a heartbeat.
VIABILITY_PROGESTERONE = (
    "If your doctor offers you progesterone, it can be started now. It does not have to wait "
    "until a heartbeat is seen."
)
VIABILITY_TITLE = "What happens next with your scan"

ADVICE = {
    "fourteen_day_bleeding_advice": "If the bleeding gets worse, or lasts more than 14 days, go "
    "back to your doctor or early pregnancy unit. If it stops, carry on with your usual "
    "pregnancy care.",
    "rescan_for_heartbeat": "You may be asked to come back for another scan to see the baby's "
    "heartbeat.",
    # Already on progesterone (decision "continue"): never told to stop it herself.
    "did_not_meet_1_5_2": "NICE's advice on progesterone is for women who have had a miscarriage "
    "before. Your doctor will talk to you about whether to carry on with it.",
    "criteria_unchecked_1_5_2": "Your doctor may ask how many miscarriages you have had before, "
    "to check that NICE's advice fits you.",
    # Already on progesterone that is not, or may not be, the kind NICE recommends (stop 52):
    # never told to stop it herself, nor to take a second one.
    "not_the_ng126_product": "The progesterone you take is not the kind NICE recommends "
    "(progesterone put into the vagina, 400 mg twice a day). Keep taking it and do not add "
    "another; your doctor will talk to you about whether to change.",
    "ng126_product_unknown": "Your doctor may ask how you take your progesterone and how much, "
    "to check it is the kind NICE recommends. Keep taking it and do not add another.",
    **VIABILITY,
}
# Advice the page has no words for (a new rule's advice): never dropped in silence, never the
# clinician's words. The suite checks that every advice id has words, so this is a safety net.
ADVICE_WITHOUT_WORDS = "Your doctor has more advice for you. Please ask them to explain it."

WHAT_NICE_IS = (
    "NICE is the National Institute for Health and Care Excellence. It tells the NHS which care "
    "works best."
)

# Urgent advice first, chosen by what she said (her answers, as the form names them).
GET_HELP_NOW = (
    "Call 999 or go to A&E now if you bleed heavily, have bad pain in your tummy, have pain in "
    "the tip of your shoulder, or feel faint or dizzy."
)
GO_NOW = "Please get help now: call 999 or go to A&E."
URGENT = {
    "heavy_bleeding": "You said you are bleeding heavily.",
    "bad_pain": "You said you have bad pain.",
    "ectopic": "A pregnancy outside the womb is called an ectopic pregnancy. It can be "
    "dangerous, so you need care from a hospital team.",
    "unclear": "Your scan could not show where your pregnancy is. Until it is found, it could be "
    "outside the womb. Go back for the blood tests or scans the hospital asks for.",
}

# What to ask, by situation. Each list is chosen by the engine's decision or by her answers.
ASK = {
    "offer": [
        "Can I have progesterone? NICE guideline NG126 says to offer it (recommendation 1.5.2).",
        "Is progesterone safe for me, with my allergies and health?",
        "How long will I use it for?",
        "What should I do if the bleeding gets worse?",
    ],
    "dates": [
        "How many weeks pregnant am I?",
        "Could progesterone help me? (NICE guideline NG126, recommendation 1.5.2.)",
        "What should I do if the bleeding gets worse?",
    ],
    "needs_information": [
        "Could progesterone help me? (NICE guideline NG126, recommendation 1.5.2.)",
        "What should I do if the bleeding gets worse?",
    ],
    "ectopic": [
        "What care do I need now, and what are my choices?",
        "Which signs mean I should go to A&E?",
        "Who can I call, day or night, if I am worried?",
    ],
    "unclear": [
        "When is my next blood test or scan?",
        "Which signs mean I should go to A&E?",
        "Who can I call, day or night, if I am worried?",
    ],
    "do_not_offer": [
        "What care is right for me now?",
        "What should I do if the bleeding gets worse?",
    ],
    "continue": ["How long should I carry on with progesterone?"],
    "stop": ["Should I carry on with progesterone?"],
}
# Asked first when the engine still needs it.
ASK_MISSING = {
    "scans": "Can I have a scan to see if my pregnancy is in my womb?",
    "lmp": "How many weeks pregnant am I?",
}

# When progesterone is not for her: what still helps, said kindly.
STILL_HELPS = [
    "Bleeding in early pregnancy is common. It does not always mean something is wrong.",
    "Your doctor, midwife or early pregnancy unit can check on you and your pregnancy.",
    "You can get support from the groups below. You do not have to cope on your own.",
]

# Only her period date is missing, and all else fits: say so (the answer is not "we cannot
# tell", since NICE's advice covers her if she is under 16 weeks).
DATES_HEADLINE = "NICE's advice on progesterone may cover you"
DATES_TEXT = (
    "NICE's advice is for women up to 16 weeks pregnant. Your doctor can check how many weeks "
    "pregnant you are."
)

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


# The engine's referral criteria (NG126 1.3) that send her to A&E, and her answers that say the
# same; the answers are a safety net so the advice is never weaker than what she told us.
A_AND_E_CRITERIA = {"heavy_bleeding": "heavy_bleeding", "significant_pain": "bad_pain"}
A_AND_E_ANSWERS = {("bleeding", "heavy"): "heavy_bleeding", ("pain", "bad"): "bad_pain"}


def _urgent(answers: dict[str, str], assessment: dict[str, Any]) -> list[str]:
    """Urgent advice, first on the page, for what she said. The engine's referral decides A&E
    (NG126 1.3) and which of her symptoms it rests on. The last sentence is the call to act: get
    help now (she has symptoms) or what to watch for (the pregnancy may be ectopic)."""
    referral = assessment.get("referral") or {}
    location = {"outside": URGENT["ectopic"], "unclear": URGENT["unclear"]}.get(
        answers.get("scan", "")
    )
    criteria = (referral.get("trace") or {}).get("criteria") or []
    said = {
        A_AND_E_CRITERIA[c["criterion"]]
        for c in criteria
        if c.get("value") == "true" and c.get("criterion") in A_AND_E_CRITERIA
    }
    said |= {
        key
        for (question, answer), key in A_AND_E_ANSWERS.items()
        if answers.get(question) == answer
    }
    symptoms = [URGENT[key] for key in ("heavy_bleeding", "bad_pain") if key in said]
    urgent = [location] if location else []
    urgent += symptoms
    if symptoms or referral.get("decision") == "emergency_care":
        urgent.append(GO_NOW)
    elif location:
        urgent.append(GET_HELP_NOW)
    return urgent


def _advice_words(ids: list[str], skip: set[str]) -> list[str]:
    """Her words for each advice id, in order, once each. The scan steps are said apart, and
    they say more than the 1.5.3 rescan advice, which they replace."""
    words: list[str] = []
    for advice_id in ids:
        if advice_id in skip:
            continue
        sentence = ADVICE.get(advice_id, ADVICE_WITHOUT_WORDS)
        if sentence not in words:
            words.append(sentence)
    return words


def _situation(decision: str, missing: list[str], answers: dict[str, str]) -> str:
    if answers.get("scan") == "outside":
        return "ectopic"
    if answers.get("scan") == "unclear":
        return "unclear"
    if decision == "needs_information" and missing == ["lmp"]:
        return "dates"
    return decision


def explain(assessment: dict[str, Any], answers: dict[str, str] | None = None) -> dict[str, Any]:
    """What the page says for this assessment and her answers: urgent advice, headline,
    sentences, unknowns, advice, what to ask and (if NICE's advice covers her) a note."""
    answers = answers or {}
    p = assessment["progesterone"]
    decision = p["decision"]
    criteria = p["trace"]["criteria"]
    situation = _situation(decision, list(p["missing"]), answers)
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
    if situation == "dates":
        why = [DATES_TEXT]
        missing: list[str] = []
    else:
        missing = [MISSING.get(m, m.replace("_", " ")) for m in p["missing"]]
    ask = [ASK_MISSING[m] for m in p["missing"] if m in ASK_MISSING and situation != "dates"]
    ask += [q for q in ASK.get(situation, ASK["needs_information"]) if q not in ask]
    ids = [a["id"] for a in p["advice"]]
    scan_next = [VIABILITY[i] for i in ids if i in VIABILITY]
    if scan_next and decision == "offer":
        scan_next.append(VIABILITY_PROGESTERONE)
    advice = _advice_words(
        ids, skip=set(VIABILITY) | ({"rescan_for_heartbeat"} if scan_next else set())
    )
    stop_on = (p.get("plan") or {}).get("stop_on")
    return {
        "decision": decision,
        "situation": situation,
        "urgent": _urgent(answers, assessment),
        "headline": DATES_HEADLINE if situation == "dates" else HEADLINES[decision],
        "why": why,
        "so_far": so_far,
        "missing": missing,
        "scan_next": scan_next,
        "scan_next_title": VIABILITY_TITLE,
        "advice": advice,
        "ask": ask,
        # Never the reassurance that bleeding is common when the pregnancy may be ectopic.
        "still_helps": STILL_HELPS if situation == "do_not_offer" else [],
        # The note cites the engine's own number for the offer (1.5.2 in the 2021+ versions).
        "note": decision == "offer",
        "offer_number": p["recommendations"][0] if p["recommendations"] else None,
        "miscarriages": answers.get("miscarriages"),
        "stop_on": stop_on,
        "recommendations": p["recommendations"],
        "version": assessment["guideline"]["version"],
    }
