"""FHIR R4 resources -> an earlypath episode (the input contract), with what could not be used.

No clinical rules live here: this module only reads facts (with the value sets in ``earlypath/fhir/valuesets``) and
places them in time. Gestational dating, when needed to tell "this pregnancy" from an earlier
one, is asked of the engine. The rules that read these facts are in the engine.

Principles:
- Absent evidence is *unknown* (``None``), never *no*.
- A resource that cannot be parsed as FHIR R4 is reported in ``problems``; the call goes on.
- Nothing here logs: the facts are patient data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from earlypath.errors import InputError, Problem
from earlypath.fhir.codes import code_set, status_list, unit_factors
from earlypath.fhir.pregnancy import condition_evidence, exclusion, observation_evidence
from earlypath.model.episode import MAX_LMP_WEEKS_BEFORE, MAX_MEASUREMENT_MM

READ_TYPES = ("Condition", "Observation", "MedicationRequest", "Medication", "AllergyIntolerance")


@dataclass
class MappingResult:
    """An episode built from FHIR data, the problems met, and which resources gave each fact."""

    episode: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    # What shows a current pregnancy (`earlypath.fhir.pregnancy`): "lmp" or resource refs.
    pregnancy_evidence: list[str] = field(default_factory=list)
    patient_gender: str | None = None  # Patient.gender, when a Patient is among the resources

    def note(self, fact: str, ref: str) -> None:
        self.evidence.setdefault(fact, [])
        if ref not in self.evidence[fact]:
            self.evidence[fact].append(ref)


def flatten(resources: Any) -> list[dict[str, Any]]:
    """Resources from a list, a single resource or Bundles (searchset entries), in order."""
    out: list[dict[str, Any]] = []
    stack = list(resources) if isinstance(resources, list | tuple) else [resources]
    while stack:
        item = stack.pop(0)
        if not isinstance(item, dict):
            continue
        if item.get("resourceType") == "Bundle":
            listed = item.get("entry")
            listed = listed if isinstance(listed, list) else []  # not R4, but never a crash
            entries = [e.get("resource") for e in listed if isinstance(e, dict)]
            stack = [e for e in entries if isinstance(e, dict)] + stack
        else:
            out.append(item)
    return out


def _ref(data: dict[str, Any]) -> str:
    return f"{data.get('resourceType', 'Resource')}/{data.get('id', '(no id)')}"


def _model_class(resource_type: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def _parse(data: dict[str, Any], problems: list[Problem]) -> Any | None:
    try:
        return _model_class(data["resourceType"]).model_validate(data)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else "?"
        problems.append(
            Problem(
                _ref(data),
                f"could not be read as FHIR R4 ({len(errors)} error(s), first at '{where}'); ignored",
            )
        )
    except Exception:  # noqa: BLE001 - a malformed resource must never fail the call
        problems.append(Problem(_ref(data), "could not be read as FHIR R4; ignored"))
    return None


def as_day(value: Any) -> dt.date | None:
    """A FHIR date/dateTime as a day; partial dates (year, year-month) are not precise enough."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _code(concept: Any) -> str | None:
    if concept is None or not concept.coding:
        return None
    return concept.coding[0].code


def _condition_day(c: Any) -> dt.date | None:
    """onset[x], else recordedDate; AllergyIntolerance has the same elements and is read the same."""
    if c.onsetDateTime is not None:
        return as_day(c.onsetDateTime)
    if c.onsetPeriod is not None and c.onsetPeriod.start is not None:
        return as_day(c.onsetPeriod.start)
    return as_day(c.recordedDate)


def _observation_day(o: Any) -> dt.date | None:
    if o.effectiveDateTime is not None:
        return as_day(o.effectiveDateTime)
    if o.effectivePeriod is not None and o.effectivePeriod.start is not None:
        return as_day(o.effectivePeriod.start)
    if o.effectiveInstant is not None:
        return as_day(o.effectiveInstant)
    return as_day(o.issued)


class _Timeline:
    """Places a day in time: before this pregnancy, in it, or cannot tell."""

    def __init__(self, assessed_on: dt.date, start: dt.date | None):
        self.assessed_on = assessed_on
        self.start = start
        self.window_start = assessed_on - dt.timedelta(weeks=MAX_LMP_WEEKS_BEFORE)

    def place(self, day: dt.date | None) -> str:
        if day is None:
            return "undated"
        if day > self.assessed_on:
            return "future"
        if self.start is not None:
            return "this" if day >= self.start else "before"
        return "before" if day < self.window_start else "unplaced"


_PLACE_MESSAGES = {
    "undated": "has no usable date (a full date is needed); ignored",
    "future": "is dated after the assessment date; ignored",
    "unplaced": (
        "cannot be placed before or in this pregnancy (no LMP or crown-rump length to date the "
        "pregnancy); ignored"
    ),
}


def _gestation_start(assessed_on: dt.date, crl_day: dt.date, crl_mm: float) -> dt.date | None:
    """The first day of this pregnancy from a crown-rump length, as the engine dates it."""
    from earlypath.engines.python import assess

    try:
        result = assess(
            {
                "assessed_on": assessed_on.isoformat(),
                "scans": [{"date": crl_day.isoformat(), "location": "unknown", "crl_mm": crl_mm}],
            }
        )
    except InputError:
        return None
    gestation = result.get("gestation")
    if not gestation:
        return None
    return assessed_on - dt.timedelta(days=int(gestation["days"]))


def map_resources(resources: Any, assessed_on: dt.date) -> MappingResult:
    """Read FHIR R4 resources (dicts, Bundles allowed) into an episode as of ``assessed_on``."""
    problems: list[Problem] = []
    parsed: list[tuple[dict[str, Any], Any]] = []
    gender = None
    for data in flatten(resources):
        kind = data.get("resourceType")
        if kind == "Patient" and isinstance(data.get("gender"), str):
            gender = data["gender"]
        if kind not in READ_TYPES:
            continue
        model = _parse(data, problems)
        if model is not None:
            parsed.append((data, model))

    result = MappingResult(episode={}, problems=problems, patient_gender=gender)
    by_type: dict[str, list[tuple[str, Any]]] = {t: [] for t in READ_TYPES}
    for data, model in parsed:
        by_type[data["resourceType"]].append((_ref(data), model))

    conditions = [
        (ref, c)
        for ref, c in by_type["Condition"]
        if _code(c.verificationStatus) != "entered-in-error"
    ]
    observations = []
    usable = status_list("usable_observation_status")
    for ref, o in by_type["Observation"]:
        if o.status in usable:
            observations.append((ref, o))
    lmp = _lmp(observations, assessed_on, result)
    crls = _crls(observations, assessed_on, result)

    start: dt.date | None = lmp
    if start is None and crls:
        # The latest CRL dates the pregnancy; of two on that day the larger, as `_scans` shows.
        day, mm, _ = max(crls, key=lambda item: (item[0], item[1]))
        start = _gestation_start(assessed_on, day, mm)
    timeline = _Timeline(assessed_on, start)

    previous, diagnosed = _miscarriages(conditions, observations, timeline, result)
    bleeding = _bleeding(conditions, observations, timeline, result)
    msds = _lengths(observations, "mean_sac_diameter", "mean sac diameter", assessed_on, result)
    heartbeats = _heartbeats(conditions, observations, timeline, result)
    scans = _scans(conditions, observations, crls, msds, heartbeats, timeline, result)
    on_progesterone = _on_progesterone(
        by_type["MedicationRequest"], by_type["Medication"], timeline, result
    )
    allergies = _allergies(by_type["AllergyIntolerance"], result)
    result.pregnancy_evidence = _pregnancy_evidence(conditions, observations, lmp, assessed_on)

    result.episode = {
        "assessed_on": assessed_on.isoformat(),
        "previous_miscarriages": previous,
        "vaginal_bleeding": bleeding,
        "lmp": lmp.isoformat() if lmp else None,
        "scans": scans,
        "miscarriage_diagnosed": diagnosed,
        "on_progesterone": on_progesterone,
        "allergies": allergies,
    }
    return result


def has_pregnancy_context(result: MappingResult) -> bool:
    """Does the record show a current pregnancy (and is it not a man's)?

    Used by the CDS patient-view service to stay silent on records with no pregnancy in them,
    rather than asking for missing facts on every chart. It is not a clinical rule: the engine
    still decides everything once there is a pregnancy to decide about. "Current pregnancy" is
    defined once, in `earlypath.fhir.pregnancy` (evidence gathered by `_pregnancy_evidence`);
    the audit's SQL gives the same answer for each encounter (`audit.fhir_flat._exclusion_sql`,
    which also reads the encounter's type, something a CDS call has no record of). The two are
    to be merged by the issue-12 redesign.
    """
    return exclusion(result.patient_gender, bool(result.pregnancy_evidence)) is None


def _pregnancy_evidence(
    conditions: list, observations: list, lmp: dt.date | None, assessed_on: dt.date
) -> list[str]:
    """What shows a current pregnancy as of ``assessed_on`` (see `earlypath.fhir.pregnancy`)."""
    found = ["lmp"] if lmp is not None else []
    for ref, c in conditions:
        abated = as_day(c.abatementDateTime)
        if abated is None and c.abatementPeriod is not None:
            abated = as_day(c.abatementPeriod.start)
        recorded = as_day(c.recordedDate)
        if condition_evidence(c, _condition_day(c), recorded, abated, assessed_on):
            found.append(ref)
    found += [
        ref for ref, o in observations if observation_evidence(o, _observation_day(o), assessed_on)
    ]
    return found


def bundle_to_episode(resources: Any, assessed_on: dt.date) -> tuple[dict[str, Any], list[Problem]]:
    """FHIR R4 resources (a list, a Bundle, or both) -> (episode dict, problems).

    The episode follows the input contract (`earlypath.parse_episode`); facts with no evidence
    are ``None`` (unknown). ``problems`` name each resource or value that could not be used.
    """
    result = map_resources(resources, assessed_on)
    return result.episode, result.problems


# --- facts ------------------------------------------------------------------------------------


def _lmp(observations: list, assessed_on: dt.date, result: MappingResult) -> dt.date | None:
    lmp_codes = code_set("last_menstrual_period")
    best: tuple[dt.date, dt.date, str] | None = None
    for ref, o in observations:
        if not lmp_codes.matches(o.code):
            continue
        value = as_day(o.valueDateTime) if o.valueDateTime is not None else None
        if value is None:
            result.problems.append(Problem(ref, "LMP has no full date in valueDateTime; ignored"))
            continue
        # "Recorded" is the day `_observation_day` gives every Observation (effective[x], else
        # issued), so an LMP counts as known on the day it was taken, as a CRL or a finding does.
        # One recorded after the assessment was not known then, whatever LMP it gives; one with
        # neither date still counts (ranked below as if recorded on the LMP itself).
        recorded = _observation_day(o)
        if recorded is not None and recorded > assessed_on:
            result.problems.append(
                Problem(ref, "LMP was recorded after the assessment date; ignored")
            )
            continue
        if value > assessed_on:
            result.problems.append(Problem(ref, "LMP is after the assessment date; ignored"))
            continue
        if (assessed_on - value).days > MAX_LMP_WEEKS_BEFORE * 7:
            continue  # an earlier pregnancy's LMP
        recorded = recorded or value
        if best is None or (recorded, value) > (best[0], best[1]):
            best = (recorded, value, ref)
    if best is None:
        return None
    result.note("lmp", best[2])
    return best[1]


def _crls(
    observations: list, assessed_on: dt.date, result: MappingResult
) -> list[tuple[dt.date, float, str]]:
    return _lengths(observations, "crown_rump_length", "crown-rump length", assessed_on, result)


def _lengths(
    observations: list, set_name: str, what: str, assessed_on: dt.date, result: MappingResult
) -> list[tuple[dt.date, float, str]]:
    """Ultrasound lengths (a crown-rump length, a mean sac diameter) in mm, with their day."""
    codes = code_set(set_name)
    factors = unit_factors()
    out = []
    for ref, o in observations:
        if not codes.matches(o.code):
            continue
        q = o.valueQuantity
        if q is None or q.value is None:
            result.problems.append(Problem(ref, f"{what} has no valueQuantity; ignored"))
            continue
        if q.comparator is not None:  # "< 5 mm" is not 5 mm: it cannot date the pregnancy
            result.problems.append(
                Problem(ref, f"{what} is a bound (comparator), not a value; ignored")
            )
            continue
        # the characters SQL TRIM is given in the audit (str.strip() alone trims more)
        unit = str(q.code or q.unit or "").strip(" \t\n\r\x0b\x0c").lower()
        if unit not in factors:
            result.problems.append(
                Problem(ref, f"{what} unit {unit or '(none)'!r} is not mm or cm; ignored")
            )
            continue
        mm = round(float(q.value) * factors[unit], 2)
        if not 0 <= mm <= MAX_MEASUREMENT_MM:
            result.problems.append(
                Problem(ref, f"{what} {mm} mm is outside 0-{MAX_MEASUREMENT_MM:g} mm; ignored")
            )
            continue
        day = _observation_day(o)
        if day is None or day > assessed_on:
            result.problems.append(Problem(ref, _PLACE_MESSAGES["future" if day else "undated"]))
            continue
        if (assessed_on - day).days > MAX_LMP_WEEKS_BEFORE * 7:
            continue
        out.append((day, mm, ref))
    return out


def _miscarriage_records(
    conditions: list, observations: list, result: MappingResult
) -> list[tuple[str, Any, dt.date | None, bool]]:
    """(ref, code, day, refuted) of each miscarriage or history record.

    A Condition as it is; an Observation (UK GP systems record most codes as Observations) as
    a finding: no value, true or present is the record, false or absent a recorded "no" (as a
    refuted Condition), any other value is reported and not used.
    """
    events = code_set("miscarriage_event")
    history = code_set("miscarriage_history")
    out = [
        (ref, c.code, _condition_day(c), _code(c.verificationStatus) == "refuted")
        for ref, c in conditions
    ]
    for ref, o in observations:
        if not (events.matches(o.code) or history.matches(o.code)):
            continue
        present = _presence(o)
        if present is None:
            result.problems.append(
                Problem(ref, "miscarriage observation value is not present/absent; ignored")
            )
            continue
        out.append((ref, o.code, _observation_day(o), not present))
    return out


def _miscarriages(
    conditions: list, observations: list, timeline: _Timeline, result: MappingResult
) -> tuple[int | None, bool]:
    events = code_set("miscarriage_event")
    history = code_set("miscarriage_history")
    before_days: set[dt.date] = set()
    at_least = 0
    evidence = False
    diagnosed = False
    denied_by: str | None = None
    unplaced = False  # a miscarriage on record that could not be placed before or in this one
    for ref, code, day, refuted in _miscarriage_records(conditions, observations, result):
        hist = history.code_of(code)
        if hist is not None and timeline.place(day) == "future":
            # A history code is not placed in a pregnancy (it may be noted years after the loss),
            # but one dated after the assessment was not known then, as a "yes" or as a "no".
            # Undated ones count: most history entries carry no date.
            result.problems.append(
                Problem(ref, "history of miscarriage " + _PLACE_MESSAGES["future"])
            )
            continue
        if refuted:
            # A refuted "history of miscarriage" is a recorded "no previous miscarriage".
            if hist is not None:
                denied_by = ref
            continue
        if hist is not None:
            evidence = True
            at_least = max(at_least, history.at_least.get(hist, 1))
            result.note("previous_miscarriages", ref)
            continue
        if not events.matches(code):
            continue
        place = timeline.place(day)
        if place == "before" and day is not None:  # an undated record is never "before"
            evidence = True
            before_days.add(day)
            result.note("previous_miscarriages", ref)
        elif place == "this":
            diagnosed = True
            result.note("miscarriage_diagnosed", ref)
        else:
            unplaced = unplaced or place != "future"
            result.problems.append(Problem(ref, "miscarriage " + _PLACE_MESSAGES[place]))
    if not evidence:
        # A recorded "no previous miscarriage" stands unless a miscarriage is on record that
        # could not be placed (it may be a previous one): then the count is unknown, not 0.
        if denied_by is not None and not unplaced:
            result.note("previous_miscarriages", denied_by)
            return 0, diagnosed
        return None, diagnosed
    return max(len(before_days), at_least), diagnosed


# Observation.value[x] in FHIR R4: any of these set means the Observation carries a value.
OBSERVATION_VALUES = (
    "valueQuantity",
    "valueCodeableConcept",
    "valueString",
    "valueBoolean",
    "valueInteger",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
)
# The primitive ones: in JSON an extension of the value (such as data-absent-reason) sits in
# "_valueX", which may be there without the value.
PRIMITIVE_VALUES = ("valueString", "valueBoolean", "valueInteger", "valueTime", "valueDateTime")


def _presence(o: Any) -> bool | None:
    """What an Observation's value says of the finding in its code: seen, not seen, or None.

    None (cannot tell) for a concept other than present/absent and for every other value type
    (an integer, a date or a string is not a yes or a no), and when the Observation says its
    value is missing (dataAbsentReason, or an extension in place of a primitive value).
    """
    if o.valueBoolean is not None:
        return bool(o.valueBoolean)
    if o.valueCodeableConcept is not None:
        if code_set("absent").matches(o.valueCodeableConcept):
            return False
        if code_set("present").matches(o.valueCodeableConcept):
            return True
        return None
    if any(getattr(o, name) is not None for name in OBSERVATION_VALUES):
        return None
    if o.dataAbsentReason is not None:
        return None
    if any(getattr(o, f"{name}__ext") is not None for name in PRIMITIVE_VALUES):
        return None
    return True  # an Observation of the finding itself, with no value: the finding was seen


def _bleeding(
    conditions: list, observations: list, timeline: _Timeline, result: MappingResult
) -> bool | None:
    codes = code_set("bleeding")
    resolved = status_list("resolved_condition_clinical")
    found: list[tuple[dt.date, bool, str]] = []
    for ref, c in conditions:
        if not codes.matches(c.code):
            continue
        day = _condition_day(c)
        place = timeline.place(day)
        if place != "this" or day is None:  # an undated record is never "this"
            if place != "before":
                result.problems.append(Problem(ref, "bleeding " + _PLACE_MESSAGES[place]))
            continue
        if _code(c.verificationStatus) == "refuted":
            found.append((day, False, ref))
        elif _code(c.clinicalStatus) in resolved:
            result.problems.append(
                Problem(
                    ref, "bleeding is recorded as resolved: whether she is bleeding now is unknown"
                )
            )
        else:
            found.append((day, True, ref))
    for ref, o in observations:
        if not codes.matches(o.code):
            continue
        day = _observation_day(o)
        place = timeline.place(day)
        if place != "this" or day is None:  # an undated record is never "this"
            if place != "before":
                result.problems.append(Problem(ref, "bleeding " + _PLACE_MESSAGES[place]))
            continue
        present = _presence(o)
        if present is None:
            result.problems.append(
                Problem(ref, "bleeding observation value is not present/absent; ignored")
            )
            continue
        found.append((day, present, ref))
    if not found:
        return None
    # The latest record describes this presentation; on the same day, "present" wins.
    day, present, ref = max(found, key=lambda item: (item[0], item[1]))
    result.note("vaginal_bleeding", ref)
    return present


HEARTBEAT_CONFLICT_MESSAGE = (
    "fetal heart findings that day disagree or are uncertain; whether a heartbeat was seen is "
    "taken as unknown"
)


def _rate_heartbeat(o: Any) -> tuple[bool | None, str | None]:
    """A fetal heart rate Observation: (heartbeat seen?, why it cannot be read).

    A rate above 0 means a heartbeat was seen and a rate of 0 that none was (whatever the unit:
    0 is 0); a present/absent value says so directly. A bound, a negative rate or no value
    cannot say either.
    """
    q = o.valueQuantity
    if q is not None:
        if q.value is None or q.comparator is not None or float(q.value) < 0:
            return None, "fetal heart rate is not a rate of 0 or more (no value, a bound or < 0)"
        return float(q.value) > 0, None
    if o.valueBoolean is not None or o.valueCodeableConcept is not None:
        present = _presence(o)
        if present is None:
            return None, "fetal heart rate value is not a rate or present/absent"
        return present, None
    return None, "fetal heart rate has no value"


def _heartbeats(
    conditions: list, observations: list, timeline: _Timeline, result: MappingResult
) -> list[tuple[dt.date, bool | None, str]]:
    """Fetal heart activity on a day of this pregnancy: True seen, False not seen, None unknown.

    From a fetal heart rate, a "viable pregnancy" finding (heartbeat seen) or an "uncertain
    viability" finding (unknown), as an Observation's code or value, or a Condition.
    """
    rate = code_set("fetal_heart_rate")
    viable = code_set("viable_pregnancy")
    uncertain = code_set("uncertain_viability")
    found: list[tuple[str, dt.date | None, bool | None]] = []
    for ref, o in observations:
        if rate.matches(o.code):
            beat, why = _rate_heartbeat(o)
            if why is not None:
                result.problems.append(Problem(ref, why + "; ignored"))
                continue
        elif viable.matches(o.code) or uncertain.matches(o.code):
            present = _presence(o)
            if present is False:
                continue  # a finding recorded as not present says nothing either way
            beat = True if present and viable.matches(o.code) else None
        elif viable.matches(o.valueCodeableConcept):
            beat = True
        elif uncertain.matches(o.valueCodeableConcept):
            beat = None
        else:
            continue
        found.append((ref, _observation_day(o), beat))
    for ref, c in conditions:
        if _code(c.verificationStatus) == "refuted":
            continue
        if viable.matches(c.code):
            found.append((ref, _condition_day(c), True))
        elif uncertain.matches(c.code):
            found.append((ref, _condition_day(c), None))
    out: list[tuple[dt.date, bool | None, str]] = []
    for ref, day, beat in found:
        place = timeline.place(day)
        if place != "this" or day is None:  # an undated record is never "this"
            if place != "before":
                result.problems.append(
                    Problem(ref, "fetal heart finding " + _PLACE_MESSAGES[place])
                )
            continue
        if beat is None:
            result.problems.append(
                Problem(ref, "fetal heart finding is uncertain; the heartbeat that day is unknown")
            )
        out.append((day, beat, ref))
    return out


def _scans(
    conditions: list,
    observations: list,
    crls: list[tuple[dt.date, float, str]],
    msds: list[tuple[dt.date, float, str]],
    heartbeats: list[tuple[dt.date, bool | None, str]],
    timeline: _Timeline,
    result: MappingResult,
) -> list[dict[str, Any]]:
    iup = code_set("intrauterine_pregnancy")
    ectopic = code_set("ectopic_pregnancy")
    days: dict[dt.date, dict[str, Any]] = {}

    def at(day: dt.date) -> dict[str, Any]:
        return days.setdefault(
            day, {"location": None, "crl_mm": None, "msd_mm": None, "heartbeats": set()}
        )

    def place_ok(ref: str, day: dt.date | None, what: str) -> bool:
        place = timeline.place(day)
        if place == "this":
            return True
        if place != "before":
            result.problems.append(Problem(ref, f"{what} " + _PLACE_MESSAGES[place]))
        return False

    for ref, o in observations:
        if iup.matches(o.code) or ectopic.matches(o.code):
            # The finding is the Observation's code: its value says whether it was seen.
            finding, present = o.code, _presence(o)
        elif o.valueCodeableConcept is not None:
            # A generic code ("procedure findings") with the finding as its value.
            finding, present = o.valueCodeableConcept, True
        else:
            continue
        is_ectopic = ectopic.matches(finding)
        if not (is_ectopic or iup.matches(finding)):
            continue
        if present is False:
            continue  # a finding recorded as not present says nothing about where the pregnancy is
        day = _observation_day(o)
        if not place_ok(ref, day, "scan finding") or day is None:  # undated is never placed
            continue
        slot = at(day)
        if present is None:
            # A finding the record does not say yes or no to (suspected, free text, a value
            # said to be missing) leaves where the pregnancy is that day uncertain: it outranks
            # an intrauterine finding and ends one carried from an earlier scan, so an uncertain
            # ectopic never lets an earlier IUP stand. Only a definite ectopic outranks it.
            result.problems.append(
                Problem(
                    ref,
                    "scan finding value is not present/absent; where the pregnancy is that day "
                    "is taken as unknown",
                )
            )
            if slot["location"] != "ectopic":
                slot["location"] = "unknown"
            result.note("scans", ref)
        elif is_ectopic:
            slot["location"] = "ectopic"
            result.note("scans", ref)
        elif slot["location"] is None or slot["location"] == "intrauterine":
            slot["location"] = "intrauterine"
            result.note("scans", ref)
    for ref, c in conditions:
        if not ectopic.matches(c.code) or _code(c.verificationStatus) == "refuted":
            continue
        day = _condition_day(c)
        if place_ok(ref, day, "ectopic pregnancy") and day is not None:
            at(day)["location"] = "ectopic"
            result.note("scans", ref)
    for day, mm, ref in crls:
        if place_ok(ref, day, "crown-rump length"):
            slot = at(day)
            # Two CRLs on one day: the larger counts, whatever order they come in (a rule the
            # audit's SQL can share; dating in `map_resources` takes the same one).
            if slot["crl_mm"] is None or mm > slot["crl_mm"]:
                slot["crl_mm"] = mm
            result.note("scans", ref)
    for day, mm, ref in msds:
        if place_ok(ref, day, "mean sac diameter"):
            slot = at(day)
            if slot["msd_mm"] is None or mm > slot["msd_mm"]:  # as for two CRLs: the larger
                slot["msd_mm"] = mm
            result.note("scans", ref)
    for day, beat, ref in heartbeats:  # already placed in this pregnancy by `_heartbeats`
        at(day)["heartbeats"].add(beat)
        result.note("scans", ref)

    scans: list[dict[str, Any]] = []
    carried: str | None = None
    for day in sorted(days):
        slot = days[day]
        # A location confirmed by an earlier scan in this pregnancy stands until another is
        # recorded; a day made uncertain (above) ends it.
        location = slot["location"] or carried or "unknown"
        if slot["location"] == "unknown":
            carried = None
        elif location != "unknown":
            carried = location
        scan: dict[str, Any] = {"date": day.isoformat(), "location": location}
        if slot["crl_mm"] is not None:
            scan["crl_mm"] = slot["crl_mm"]
            if slot["crl_mm"] > 0:
                scan["fetal_pole"] = True
        if slot["msd_mm"] is not None:
            scan["msd_mm"] = slot["msd_mm"]
        # One answer on the day, or none: "seen" and "not seen" on one day, or a finding that
        # leaves it uncertain (None), make the heartbeat that day unknown, never no.
        if len(slot["heartbeats"]) == 1 and None not in slot["heartbeats"]:
            scan["fetal_heartbeat"] = next(iter(slot["heartbeats"]))
        elif len(slot["heartbeats"]) > 1:
            result.problems.append(
                Problem(f"scan of {day.isoformat()}", HEARTBEAT_CONFLICT_MESSAGE)
            )
        scans.append(scan)
    return scans


# A reference to a Medication, matched whole: relative ("Medication/x") or absolute
# (".../Medication/x"), with an optional version ("/_history/2"), or "urn:uuid:x" (a bulk export
# or transaction Bundle's reference to the resource with id x); group 1 is the id. Other
# resource types, bare ids and conditional references do not match.
MEDICATION_REFERENCE = r"(?:(?:[^/]*/)*Medication/|urn:uuid:)([^/]+)(?:/_history/[^/]+)?"


def _medication_id(reference: str) -> str | None:
    match = re.fullmatch(MEDICATION_REFERENCE, reference)
    return match.group(1) if match else None


def _medication_concepts(
    request: Any, medications: dict[str, Any], ref: str, result: MappingResult
) -> list[Any]:
    """What names the medicine of a request: its own concept, else the Medication it refers to
    (contained, then exported: its code and its ingredients' concepts), else the reference's
    display as text."""
    if request.medicationCodeableConcept is not None:
        return [request.medicationCodeableConcept]
    reference = request.medicationReference
    if reference is None:
        return []
    if not reference.reference:  # a logical reference (identifier) can still name the medicine
        return [{"text": reference.display}] if reference.display else []
    key = reference.reference
    for contained in request.contained or []:
        if (
            f"#{getattr(contained, 'id', '')}" == key
            and contained.get_resource_type() == "Medication"
        ):
            return _named_by(contained)
    med_id = _medication_id(key)
    med = medications.get(med_id) if med_id is not None else None
    if med is None:
        if reference.display:
            return [{"text": reference.display}]
        result.problems.append(Problem(ref, "its Medication could not be resolved; ignored"))
        return []
    return _named_by(med)


def _named_by(medication: Any) -> list[Any]:
    """A Medication's code and its ingredients' concepts (a product may be named only by what
    it contains)."""
    concepts = [medication.code] if medication.code is not None else []
    for ingredient in medication.ingredient or []:
        if ingredient.itemCodeableConcept is not None:
            concepts.append(ingredient.itemCodeableConcept)
    return concepts


def _on_progesterone(
    requests: list, medications: list, timeline: _Timeline, result: MappingResult
) -> bool:
    progesterone = code_set("progesterone")
    active = status_list("active_medication_status")
    meds: dict[str, Any] = {}  # by id; of two with the same id, the last listed
    for _, m in medications:
        if m.id is not None:
            meds[m.id] = m
    for ref, request in requests:
        if request.status not in active or request.doNotPerform:
            continue  # a "do not perform" request forbids the medicine
        # Not yet written, or written before this pregnancy (a request left active since an
        # earlier one): not what she is on now. Undated or unplaceable ones still count.
        if timeline.place(as_day(request.authoredOn)) in ("future", "before"):
            continue
        concepts = _medication_concepts(request, meds, ref, result)
        if any(progesterone.matches(concept) for concept in concepts):
            result.note("on_progesterone", ref)
            return True
    return False


def _allergies(allergies: list, result: MappingResult) -> list[str]:
    out: list[str] = []
    for ref, a in allergies:
        if _code(a.verificationStatus) in ("entered-in-error", "refuted"):
            continue
        if _code(a.clinicalStatus) in ("inactive", "resolved"):
            continue
        # An allergy is never left out for its date. One dated after the assessment may only be
        # a time zone away (the service's today is a UTC date), and leaving out a real allergy
        # could choose a product she reacts to; listing it only steers the product choice.
        name = None
        if a.code is not None:
            name = a.code.text or next((c.display for c in a.code.coding or [] if c.display), None)
        if name:
            out.append(str(name)[:200])
            result.note("allergies", ref)
    return out
