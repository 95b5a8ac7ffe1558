"""CDS Hooks 2.0 cards from an assessment: what the engine decided, said for a clinician.

The decision, reasons, recommendations and plan all come from the engine's assessment; this
module only words them (summary < 140 characters, Markdown detail) and, for an offer, attaches
the plan as a FHIR MedicationRequest suggestion.
"""

from __future__ import annotations

import binascii
import functools
import itertools
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from earlypath.errors import Problem
from earlypath.fhir.medication_request import order_differences, plan_to_medication_request
from earlypath.fhir.merged import MergedRecord

NICE_URL = "https://www.nice.org.uk/guidance/ng126"
SUMMARY_LIMIT = 140

_MISSING_WORDS = {
    "scans": "a scan showing where the pregnancy is",
    # a scan was done, its report not read (the reading names its day among the problems)
    "scan_report": "the latest scan report read (record where it shows the pregnancy)",
    "vaginal_bleeding": "whether she has vaginal bleeding",
    "previous_miscarriages": "number of previous miscarriages",
    "lmp": "gestational age (LMP or crown-rump length)",
    "miscarriage_diagnosed": "whether a miscarriage has been diagnosed",
    "on_progesterone": "whether she is already taking progesterone",
}

OVERRIDE_REASONS = [
    {
        "system": "https://earlypath.example/cds/override-reason",
        "code": "declined",
        "display": "Woman declined after discussion",
    },
    {
        "system": "https://earlypath.example/cds/override-reason",
        "code": "contraindicated",
        "display": "Contraindication found (see SmPC checks)",
    },
    {
        "system": "https://earlypath.example/cds/override-reason",
        "code": "clinical-judgement",
        "display": "Clinical judgement: guideline does not apply",
    },
]


def _source(assessment: dict[str, Any]) -> dict[str, Any]:
    g = assessment["guideline"]
    return {"label": f"NICE {g['guideline']} (version {g['version']})", "url": NICE_URL}


def _short(text: str) -> str:
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2].rstrip() + "…"


def _recs(assessment: dict[str, Any]) -> str:
    p = assessment["progesterone"]
    g = assessment["guideline"]
    numbers = ", ".join(p["recommendations"]) or "no numbered recommendation"
    return f"NG126 {numbers} ({g['version']})"


# CommonMark / GFM special characters; the backslash first, so the escapes added are not escaped.
_MARKDOWN_SPECIAL = "\\`*_[]()!|~#{}"
_LINE_BREAKS_AND_CONTROLS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
# (character, what it becomes), in order: HTML's &, < and > as entities, then the Markdown
# specials backslash-escaped. str.replace on a character the text lacks costs a scan, not a copy.
_MD_REPLACEMENTS = (
    ("\\", "\\\\"),
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    *((c, "\\" + c) for c in _MARKDOWN_SPECIAL[1:]),
)


_NOTHING_TO_ESCAPE = re.compile(r"[^\\`*_\[\]()!|~#{}&<>\x00-\x1f\x7f\x85\u2028\u2029]*")


def md(value: object) -> str:
    """Text made inert as Markdown: it shows as written and can never become markup.

    CommonMark / GFM special characters are backslash-escaped (no links, images, emphasis,
    code or tables), HTML's &, < and > become entities (no tags, no autolinks), and line breaks
    and control characters become spaces (no new blocks: headings, lists, quotes). Every value
    put into a card's detail goes through here: FHIR strings (a Condition's text, a medication's
    display, ids) reach the engine's words too, e.g. as allergy names.
    """
    if type(value) is int:
        return str(value)  # digits and a minus sign: nothing to escape
    text = value if type(value) is str else str(value)
    if _NOTHING_TO_ESCAPE.fullmatch(text) is not None:
        return text  # dates, ids, plain words: one scan
    if _LINE_BREAKS_AND_CONTROLS.search(text) is not None:
        text = _LINE_BREAKS_AND_CONTROLS.sub(" ", text)
    for character, replacement in _MD_REPLACEMENTS:
        if character in text:
            text = text.replace(character, replacement)
    return text


def _plain(texts: Iterable[Any]) -> bool:
    """True if every one of `texts` is text `md` leaves as it is (one scan for them all: ids and
    fact names, the usual evidence). A text with something to escape, or a value that is not
    text, answers False: each is then escaped by `md` on its own."""
    try:
        return _NOTHING_TO_ESCAPE.fullmatch(" ".join(texts)) is not None
    except TypeError:
        return False


@functools.lru_cache(maxsize=256)
def _citation_line(guideline: str, number: str, version: str, summary: str) -> str:
    """One recommendation's line: guideline text only (never patient data), built once."""
    return f"- {md(guideline)} {md(number)} (version {md(version)}): {md(summary)}"


@functools.lru_cache(maxsize=1024)
def _words(text: str) -> str:
    """md of the engine's own words: a reason, a plan's or product's text, advice, a decision.

    They come from a fixed vocabulary (rule criteria, products, policy), so each is escaped once.
    Text from the record (evidence, problems) always goes through `md` itself.
    """
    return md(text)


# Card and order UUIDs (version 4, random), made a block at a time from one os.urandom draw and
# handed out one by one: writing each UUID's text with slices and an f-string cost about 10k
# instructions a UUID (three a card); the block's text is written by C calls alone (the version
# and variant bits set by `translate` on every 16th byte, the hex with a dash every 2 bytes, the
# dashes a UUID does not have deleted column by column), about 2k a UUID. A forked child starts
# with none: it must never hand out its parent's.
_UUID_BLOCK = 64
# The version (4) in the high digit of byte 6; the RFC 4122 variant (10xx) over byte 8.
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT_RFC = bytes((b & 0x3F) | 0x80 for b in range(256))
_uuids: list[str] = []


def _uuid_block(count: int = _UUID_BLOCK) -> list[str]:
    """``count`` random version 4 UUIDs as str(uuid.uuid4()) writes them, from one draw."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT_RFC)
    # "xxxx-" eight times a UUID (40 characters) -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n"
    text = bytearray(binascii.hexlify(raw, b"-", -2))
    text.append(0x2D)
    del text[4::40]  # between its first two groups
    del text[28::39]  # between the last three
    del text[32::38]
    text[36::37] = b"\n" * count  # the dash that followed each UUID
    return text.decode("ascii").split()


def _forget_uuids() -> None:
    _uuids.clear()


os.register_at_fork(after_in_child=_forget_uuids)


def _new_uuid() -> str:
    """A random (version 4) UUID as text, as str(uuid.uuid4()) writes it, without the object."""
    while True:
        try:
            return _uuids.pop()  # atomic: two threads never get the same one
        except IndexError:
            _uuids.extend(_uuid_block())


def _recs_md(assessment: dict[str, Any]) -> str:
    return md(_recs(assessment))


# The engine's part of a detail text (everything but the record's evidence and problems, and a
# caller's extra lines), kept per the values it is written from: the same words, plan and
# guideline make the same text. Bounded as the engine's own kept outputs: a workload that moved
# on starts again.
DETAILS_KEPT = 1024
_details: dict[tuple[Any, ...], str] = {}


def _detail_key(assessment: dict[str, Any]) -> tuple[Any, ...]:
    """Every value `_engine_detail` reads, as a key (texts, numbers, None, tuples of them). A
    number comes with its type: 400 and 400.0 are one key but two texts. (Written out, no call
    per value: this runs on every card.)"""
    p = assessment["progesterone"]
    g = assessment["guideline"]
    gest = assessment.get("gestation")
    plan = p.get("plan")
    plan_key: tuple[Any, ...] | None = None
    if plan:
        prod = plan["product"]
        dose, days, per_dose = plan["dose_mg"], plan["days_to_stop_date"], prod["units_per_dose"]
        first, to_stop = plan["units_first_14_days"], plan["units_to_stop_date"]
        plan_key = (
            (type(dose), dose),
            plan["route"],
            plan["frequency"],
            plan["start_on"],
            plan["stop_on"],
            (type(days), days),
            plan["stop_rule"],
            prod["name"],
            (type(per_dose), per_dose),
            prod["unit"],
            (type(first), first),
            (type(to_stop), to_stop),
            plan["off_label"],
            tuple(plan["product_notes"]),
            tuple(plan["check_before_prescribing"]),
        )
    return (
        p["decision"],
        tuple(p["recommendations"]),
        tuple(p["reasons"]),
        tuple(p["missing"]),
        tuple([(c["guideline"], c["number"], c["version"], c["summary"]) for c in p["citations"]]),
        plan_key,
        tuple([(a["recommendation"], a["text"]) for a in p["advice"]]),
        (gest["display"], gest["basis"]) if gest else None,
        (g["guideline"], g["version"], g["chosen_because"]),
    )


def _engine_detail(assessment: dict[str, Any]) -> str:
    """The detail's lines written from the assessment alone, kept per `_detail_key`."""
    try:
        key = _detail_key(assessment)
        text = _details.get(key)  # the key hashed once: TypeError when a value is not hashable
    except (KeyError, TypeError):  # a shape the key does not foresee: written afresh
        return "\n".join(_engine_lines(assessment))
    if text is None:
        if len(_details) >= DETAILS_KEPT:
            _details.clear()
        text = _details[key] = "\n".join(_engine_lines(assessment))
    return text


def detail_markdown(
    assessment: dict[str, Any],
    problems: list[Problem] | None = None,
    evidence: dict[str, list[str]] | None = None,
    extra: list[str] | None = None,
) -> str:
    """The card detail: reasons, recommendations with version, plan, advice, data problems.

    Built only from escaped text (`md`); `extra` lines are Markdown the caller built with `md`.
    The engine's part is kept per its values (`_engine_detail`); the record's evidence and
    problems are escaped afresh each time.
    """
    lines: list[str] = []
    if extra:
        lines += extra + [""]
    lines.append(_engine_detail(assessment))
    lines += record_lines(problems, evidence)
    return "\n".join(lines)


def record_lines(
    problems: list[Problem] | None, evidence: dict[str, list[str]] | None
) -> list[str]:
    """The detail's lines that come from the record (its evidence and problems), escaped
    afresh each time; each section starts with an empty line (after the engine's part)."""
    lines: list[str] = []
    if evidence:
        lines += ["", "**Data used**"]
        items = sorted(evidence.items())
        # the facts are the reading's own names (`_words` escapes each once); the references
        # come from the record: one scan for them all when none needs escaping
        # (the references joined in one C call: the order does not change the answer)
        if _plain(itertools.chain.from_iterable(evidence.values())):
            lines += [f"- {_words(fact)}: {', '.join(refs)}" for fact, refs in items]
        else:
            lines += [f"- {md(fact)}: {', '.join(md(r) for r in refs)}" for fact, refs in items]
    if problems:
        lines += ["", "**Data that could not be used**"]
        lines += [f"- {md(pr.field)}: {md(pr.message)}" for pr in problems]
    return lines


def _engine_lines(assessment: dict[str, Any]) -> list[str]:
    """The lines of the detail that come from the assessment: decision, why, missing,
    recommendations, plan, advice, gestation and guideline."""
    p = assessment["progesterone"]
    g = assessment["guideline"]
    lines: list[str] = []
    decision = _words(p["decision"].replace("_", " "))
    lines.append(f"**Decision: {decision}** ({_recs_md(assessment)})")
    lines.append("")
    lines.append("**Why**")
    lines += [f"- {_words(r)}" for r in p["reasons"]]
    if p["missing"]:
        missing = ", ".join(_words(_MISSING_WORDS.get(m, m)) for m in p["missing"])
        lines += ["", "**Missing**: " + missing]
    if p["citations"]:
        lines += ["", "**Recommendations**"]
        lines += [
            _citation_line(c["guideline"], c["number"], c["version"], c["summary"])
            for c in p["citations"]
        ]
    plan = p.get("plan")
    if plan:
        prod = plan["product"]
        lines += [
            "",
            "**Plan**",
            f"- {md(plan['dose_mg'])} mg {_words(plan['route'])} {_words(plan['frequency'])}, "
            f"{md(plan['start_on'])} to **{md(plan['stop_on'])}** "
            f"({md(plan['days_to_stop_date'])} days; {_words(plan['stop_rule'])})",
            f"- {_words(prod['name'])}: {md(prod['units_per_dose'])} "
            f"{_words(prod['unit'])}(s) a dose; "
            f"{md(plan['units_first_14_days'])} for the first 14 days, "
            f"{md(plan['units_to_stop_date'])} to the stop date",
            f"- {_words(plan['off_label'])}",
        ]
        lines += [f"- {_words(n)}" for n in plan["product_notes"]]
        lines += ["", "**Check before prescribing**"]
        lines += [f"- {_words(c)}" for c in plan["check_before_prescribing"]]
    for advice in p["advice"]:
        lines += ["", f"**Advice ({_words(advice['recommendation'])})**: {_words(advice['text'])}"]
    gest = assessment.get("gestation")
    lines += [
        "",
        f"Gestation: {md(gest['display'])} (by {md(gest['basis'])})"
        if gest
        else "Gestation: unknown",
        f"Guideline: {md(g['guideline'])} version {md(g['version'])} ({md(g['chosen_because'])}).",
    ]
    return lines


def _card(
    summary: str,
    indicator: str,
    assessment: dict[str, Any],
    detail: str,
    new_uuid: Callable[[], str] = _new_uuid,
) -> dict[str, Any]:
    return {
        "uuid": new_uuid(),
        "summary": _short(summary),
        "indicator": indicator,
        "detail": detail,
        "source": _source(assessment),
    }


def decision_card(
    assessment: dict[str, Any],
    patient_id: str | None,
    problems: list[Problem] | None = None,
    evidence: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The card for the engine's progesterone decision (patient-view)."""
    detail = detail_markdown(assessment, problems, evidence)
    return card_of_decision(assessment, patient_id, detail, _new_uuid)


def card_of_decision(
    assessment: dict[str, Any],
    patient_id: str | None,
    detail: str,
    new_uuid: Callable[[], str],
) -> dict[str, Any]:
    """`decision_card` with its detail written, its UUIDs drawn from ``new_uuid`` (in the
    order: the card's, the draft order's id, the suggestion's)."""
    p = assessment["progesterone"]
    decision = p["decision"]
    plan = p.get("plan")
    if decision == "offer" and plan:
        card = _card(
            f"Offer vaginal progesterone 400 mg twice daily until {plan['stop_on']} "
            f"({_recs(assessment)})",
            "info",
            assessment,
            detail,
            new_uuid,
        )
        order = plan_to_medication_request(plan, patient_id, request_id=new_uuid())
        card["suggestions"] = [
            {
                "label": f"Order progesterone 400 mg vaginal twice daily to {plan['stop_on']}",
                "uuid": new_uuid(),
                "isRecommended": True,
                "actions": [
                    {
                        "type": "create",
                        "description": (
                            f"Create a draft order: {plan['product']['name']}, 400 mg vaginally "
                            f"twice daily, stop on {plan['stop_on']}"
                        ),
                        "resource": order,
                    }
                ],
            }
        ]
        card["selectionBehavior"] = "at-most-one"
        card["overrideReasons"] = OVERRIDE_REASONS
        return card
    if decision == "continue" and plan:
        # The engine's advice on her current product (stop 52) is said in the summary too, so a
        # "continue" never reads as NG126's product when hers is not, or may not be.
        advice = {a["id"] for a in p["advice"]}
        stop_on, recs = plan["stop_on"], _recs(assessment)
        if "not_the_ng126_product" in advice:
            summary = (
                f"Continue progesterone until {stop_on}, but it is NOT NG126 1.5.2's product: "
                f"review ({recs})"
            )
            return _card(summary, "warning", assessment, detail, new_uuid)
        if "ng126_product_unknown" in advice:
            summary = (
                f"Continue progesterone until {stop_on}; check it is NG126 1.5.2's product "
                f"(route, dose) ({recs})"
            )
            return _card(summary, "info", assessment, detail, new_uuid)
        return _card(
            f"Continue vaginal progesterone until {stop_on} ({recs})",
            "info",
            assessment,
            detail,
            new_uuid,
        )
    if decision == "stop":
        return _card(
            f"Stop progesterone: {p['reasons'][0] if p['reasons'] else ''} ({_recs(assessment)})",
            "warning",
            assessment,
            detail,
            new_uuid,
        )
    if decision == "needs_information":
        missing = ", ".join(_MISSING_WORDS.get(m, m) for m in p["missing"]) or "see detail"
        return _card(f"NG126 progesterone: needs {missing}", "info", assessment, detail, new_uuid)
    first = p["reasons"][0] if p["reasons"] else "see detail"
    return _card(
        f"Progesterone not recommended by {_recs(assessment)}: {first}",
        "info",
        assessment,
        detail,
        new_uuid,
    )


def order_cards(
    assessment: dict[str, Any],
    orders: list[dict[str, Any]],
    patient_id: str | None,
    problems: list[Problem] | None = None,
    evidence: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Cards for draft progesterone orders (order-select / order-sign), by the engine's decision."""
    p = assessment["progesterone"]
    decision = p["decision"]
    plan = p.get("plan")
    # every order card's detail: these lines, then what all the cards' details say
    detail = functools.partial(detail_markdown, assessment, problems, evidence)
    cards = []
    for order in orders:
        ref = f"MedicationRequest/{order.get('id', '(draft)')}"
        if decision in ("do_not_offer", "stop"):
            why = p["reasons"][0] if p["reasons"] else "see detail"
            cards.append(
                _card(
                    f"Progesterone order not supported by {_recs(assessment)}: {why}",
                    "warning",
                    assessment,
                    detail(
                        [
                            f"This progesterone order ({md(ref)}) is not supported by NICE NG126 "
                            "for this woman."
                        ]
                    ),
                )
            )
        elif decision == "needs_information":
            card = decision_card(assessment, patient_id, problems, evidence)
            card["detail"] = detail(
                [
                    f"Before this progesterone order ({md(ref)}) can be checked against NG126, "
                    "record the missing facts."
                ]
            )
            cards.append(card)
        elif plan:
            differences, unchecked = order_differences(order, plan)
            if differences:
                card = _card(
                    f"Progesterone order differs from NG126 plan: {differences[0]}",
                    "warning",
                    assessment,
                    detail(
                        [f"This order ({md(ref)}) differs from the plan:"]
                        + [f"- {md(d)}" for d in differences]
                    ),
                )
                replacement = plan_to_medication_request(plan, patient_id, request_id=_new_uuid())
                actions: list[dict[str, Any]] = []
                if order.get("id"):
                    actions.append(
                        {
                            "type": "delete",
                            "description": "Remove the draft order that differs",
                            "resourceId": ref,
                        }
                    )
                actions.append(
                    {
                        "type": "create",
                        "description": f"Order 400 mg vaginally twice daily to {plan['stop_on']} instead",
                        "resource": replacement,
                    }
                )
                card["suggestions"] = [
                    {
                        "label": "Replace with the NG126 plan",
                        "uuid": _new_uuid(),
                        "actions": actions,
                    }
                ]
                card["selectionBehavior"] = "at-most-one"
                card["overrideReasons"] = OVERRIDE_REASONS
                cards.append(card)
            else:
                note = [f"This order ({md(ref)}) matches the plan."]
                if unchecked:
                    note.append("Not checked: " + "; ".join(md(u) for u in unchecked) + ".")
                cards.append(
                    _card(
                        f"Progesterone order is consistent with {_recs(assessment)}; stop on {plan['stop_on']}",
                        "info",
                        assessment,
                        detail(note),
                    )
                )
    return cards


def problem_card(problems: list[Problem]) -> dict[str, Any]:
    """A card for data that could not make an episode at all (no decision could be made)."""
    detail = "**The FHIR data could not be turned into an episode:**\n" + "\n".join(
        f"- {md(p.field)}: {md(p.message)}" for p in problems
    )
    return {
        "uuid": _new_uuid(),
        "summary": "NG126 progesterone: the record's data could not be assessed (see detail)",
        "indicator": "warning",
        "detail": detail,
        "source": {"label": "NICE NG126", "url": NICE_URL},
    }


def merged_record_card(merged: MergedRecord) -> dict[str, Any]:
    """The card for a record that cannot be decided on as it stands because of a merge of
    patient records (`earlypath.fhir.merged`): no recommendation, the record to open or the
    merged record whose resources were not sent named."""
    if merged.merged_into is not None:
        other = f"Patient/{merged.merged_into}"
        summary = f"NG126 progesterone: this record was merged into {other}: open that one"
        lines = [
            f"This patient record was merged into {md(other)} (Patient.link replaced-by) and "
            "must no longer be used: no recommendation is made from it. Open the record in use."
        ]
    elif merged.unresolved is not None:
        summary = "NG126 progesterone: needs the record in use (its merge links conflict)"
        lines = [
            f"This patient record {md(merged.unresolved)}. No recommendation is made: ask for "
            "the merge to be checked."
        ]
    else:
        others = ", ".join(f"Patient/{m}" for m in merged.not_sent)
        summary = f"NG126 progesterone: needs the merged record {others}"
        lines = [
            f"This record replaces {md(others)} (Patient.link replaces), but none of that "
            "record's resources came with the request: what it holds (a previous miscarriage, "
            "an ectopic pregnancy, a scan, progesterone already given) is unknown, so no "
            "recommendation is made. Ask the EHR to send the merged record's resources too."
        ]
    return {
        "uuid": _new_uuid(),
        "summary": _short(summary),
        "indicator": "warning",
        "detail": "\n".join(lines),
        "source": {"label": "NICE NG126", "url": NICE_URL},
    }
