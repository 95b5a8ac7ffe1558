"""How a FHIR R4 record becomes an episode: the one definition, in the records IR.

Run by the Python engine (`earlypath.records.python`) for the CDS service and by the ibis
compiler for the audit. No clinical rule lives here: this reads facts (with the value sets of
``earlypath/fhir/valuesets``) and places them in time; gestational dating, when needed to tell
"this pregnancy" from an earlier one, is the engine's own rule (`earlypath.dating`).

Principles:
- absent evidence is Unknown (None), never "no";
- a value that cannot be used is reported with the resource it came from, and the reading goes
  on; a JSON value of another type than FHIR gives it is read as absent;
- every literal (statuses, units, the window, the allergy cap) is named once, here or in
  ``earlypath/fhir/reading.json``.

Tables (one row per resource, layer 1): ``clinical`` (Conditions and Observations coded for a
fact or showing a current pregnancy, `earlypath.fhir.pregnancy`), ``medications``,
``requests``, ``allergies``, ``patients``. Steps (per encounter, layer 2): the LMP, the dating
CRL and the start of this pregnancy, then every fact placed on that timeline.

Why not SQL-on-FHIR v2 ViewDefinitions for layer 1: their FHIRPath columns could give most of the
per-resource values, but not what this layer needs beside them: value-set membership with the
site's own codes and words (``memberOf`` asks a terminology server), a value of the wrong JSON
type read as absent and reported with the resource, and the problems each resource gives. A
site's ViewDefinition tables can still be read into these tables, since the rows are plain
columns; the definition itself stays in one IR that both engines run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from earlypath.dating import GESTATION_DAYS
from earlypath.fhir.codes import code_system_aliases, reading_config, status_list, unit_factors
from earlypath.fhir.pregnancy import (
    HCG_NEGATIVE_BELOW,
    HCG_UNITS,
    PREGNANCY_CONDITION_SETS,
    PREGNANCY_END_SETS,
    PREGNANCY_OBSERVATION_SETS,
    PREGNANCY_VALUE_SETS,
)
from earlypath.model.episode import MAX_LMP_WEEKS_BEFORE, MAX_MEASUREMENT_MM
from earlypath.products import (
    DAY_PARTS,
    DMD_SYSTEM,
    DOSE_UNIT_FORMS,
    DOSE_UNIT_WORDS,
    MG_PER_UNIT,
    NG126_DOSE_MG,
    NG126_DOSES_PER_DAY,
    NG126_ROUTE_SET,
    VMP_MG_PER_UNIT,
)
from earlypath.records.identifiers import identifier_value, nhs_number_not_valid, usable_text
from earlypath.records.ir import (
    Agg,
    AnyItem,
    AnyResourceItem,
    AtLeast,
    Col,
    Concept,
    Ctx,
    Day,
    Days,
    EpisodeSpec,
    EveryItem,
    Field,
    FirstCode,
    FirstItem,
    InSet,
    ItemCount,
    ItemRows,
    Joined,
    Left,
    LocalId,
    Lookup,
    Message,
    NormText,
    OneOf,
    Outer,
    RefId,
    Round2,
    RowProblem,
    RowSpec,
    SpanDay,
    TextInSet,
)
from earlypath.rules.ir import (
    AddDays,
    And,
    Arith,
    Cmp,
    Coalesce,
    Const,
    DaysBetween,
    Expr,
    Fact,
    Floor,
    If,
    IsNull,
    IsTrue,
    Not,
    Or,
)

__all__ = [
    "ABORTIONS_NOT_MISCARRIAGES",
    "ALLERGY_NAME_MAX",
    "CARE_EVENT_ROWS",
    "COMPONENT_ROWS",
    "COUNT_MAX",
    "CONCLUSION_ROWS",
    "CONTAINED_FINDINGS",
    "CONTAINED_MALFORMED_PREFIX",
    "CONTAINED_ROWS",
    "ECTOPIC_MAY_BE_THIS_MESSAGE",
    "HEARTBEAT_CONFLICT_MESSAGE",
    "IDENTIFIED_SUBJECTS",
    "IDENTIFIER_TIES",
    "IUP_NOT_SEEN_LOCATION",
    "IUP_NOT_SEEN_MESSAGE",
    "LOCALLY_CODED_LOCATION",
    "LOCALLY_CODED_MESSAGE",
    "LOCALLY_CODED_UNPLACED_MESSAGE",
    "LMP_ENDED_MESSAGE",
    "LMP_NOT_A_DAY_MESSAGE",
    "LOSS_MAY_BE_THIS_MESSAGE",
    "LOSS_UNDATED_MESSAGE",
    "MERGE_LINKS",
    "NOT_PREGNANT_CONFLICT_MESSAGE",
    "NO_PATIENT_MESSAGE",
    "OBSERVATION_VALUES",
    "PATIENT_IDENTIFIERS",
    "PATIENT_LINKS",
    "PLACE_MESSAGES",
    "PRIMITIVE_VALUES",
    "READING",
    "REPORT_UNREFERRED_MESSAGE",
    "SCAN_NOTHING_READ_MESSAGE",
    "SCAN_TEXT_ONLY_MESSAGE",
    "SUBJECT_ELEMENTS",
    "UNCONFIRMED_LOCATION",
    "UNCONFIRMED_MESSAGE",
    "REPORT_NOT_READ_LOCATION",
    "UNKNOWN_LOCATION",
    "UNREAD_FINDING_MESSAGE",
    "UNREAD_LOCATION",
    "UNREAD_REPORT_MESSAGE",
    "IMAGES_ONLY_MESSAGE",
    "LONE_PROCEDURE_MESSAGE",
    "REPORTED_STUDY_ROWS",
    "STUDY_KIND_UNKNOWN_MESSAGE",
    "STUDY_STATUS_MESSAGE",
    "STUDY_STATUS_MISSING_MESSAGE",
    "OBSERVATION_VERSIONS_HELD_MESSAGE",
    "VERSIONS_HELD_MESSAGE",
    "WINDOW_DAYS",
    "place",
    "with_context",
]

# The window an LMP (and so a pregnancy) is placed in, and in which a finding still counts.
WINDOW_DAYS = MAX_LMP_WEEKS_BEFORE * 7
# An allergy's name is cut to this many characters (it is shown, never matched).
ALLERGY_NAME_MAX = 200
UNKNOWN_LOCATION = "unknown"
# The episode's location of a scan day whose report could not be read (stop 25): the sections
# then ask for the report to be read, rather than follow the pregnancy of unknown location
# pathway (`earlypath.guideline.vocabulary.REPORT_NOT_READ`).
REPORT_NOT_READ_LOCATION = "report_not_read"
# A count of past miscarriages or abortions above this is taken as a slip (a year, a week of
# gestation), not a count: named and not read.
COUNT_MAX = 30

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

PLACE_MESSAGES = {
    "undated": "has no usable date (a full date is needed); ignored",
    "future": "is dated after the assessment date; ignored",
    "unplaced": (
        "cannot be placed before or in this pregnancy (no LMP or crown-rump length to date the "
        "pregnancy); ignored"
    ),
}
LOSS_MAY_BE_THIS_MESSAGE = (
    "miscarriage is dated to a month or a year only, which may fall in this pregnancy: confirm "
    "whether this pregnancy has miscarried"
)
# a miscarriage coded with no date at all (stop 26): it may be this pregnancy's loss too
LOSS_UNDATED_MESSAGE = (
    "miscarriage has no date, so it may be this pregnancy's: confirm whether this pregnancy has "
    "miscarried"
)
# an ectopic pregnancy dated to a month or a year only, or not dated (stop 26)
ECTOPIC_MAY_BE_THIS_MESSAGE = (
    "ectopic pregnancy has no full date and may be this pregnancy's: the latest scan's location "
    "is taken as unknown; confirm whether this pregnancy is ectopic"
)
LMP_ENDED_MESSAGE = (
    "LMP was recorded before a later record that she is not pregnant; not used for this pregnancy"
)
NOT_PREGNANT_CONFLICT_MESSAGE = (
    "says she is not pregnant, but a record of the same day shows a pregnancy: which came first "
    "is unknown, so the pregnancy is kept"
)
NO_PATIENT_MESSAGE = (
    "names no Patient in the record: her sex and age are unknown (a man's record cannot be told "
    "apart); judged on the pregnancy evidence as it stands"
)
# a result whose status is preliminary, partial or unknown (`reading.json`
# unconfirmed_observation_status, unconfirmed_report_status)
UNCONFIRMED_MESSAGE = (
    "scan finding of an intrauterine pregnancy is not known to be verified (its status is "
    "preliminary, partial or unknown): it does not confirm where the pregnancy is; ignored"
)
# a previous miscarriage, or current bleeding, on a Condition whose verificationStatus is
# unconfirmed, provisional or differential (`reading.json` unconfirmed_condition_verification)
UNCONFIRMED_MISCARRIAGE_MESSAGE = (
    "previous miscarriage is recorded as not confirmed (its verification status is unconfirmed, "
    "provisional or differential): not counted; confirm whether she has had a miscarriage"
)
UNCONFIRMED_BLEEDING_MESSAGE = (
    "bleeding is recorded as not confirmed (its verification status is unconfirmed, provisional "
    "or differential): whether she is bleeding now is unknown"
)
# the same, recorded on an Observation whose status is preliminary or unknown (`reading.json`
# unconfirmed_observation_status; stop 43), or kept inside a report or panel so (stop 47)
UNVERIFIED_MISCARRIAGE_MESSAGE = (
    "previous miscarriage is recorded on a result not known to be verified (its status, or that "
    "of the report or panel it is sent in, is preliminary, partial or unknown): not counted; "
    "confirm whether she has had a miscarriage"
)
UNVERIFIED_BLEEDING_MESSAGE = (
    "bleeding is recorded as present on a result not known to be verified (its status, or that "
    "of the report or panel it is sent in, is preliminary, partial or unknown): whether she is "
    "bleeding now is unknown"
)
# an LMP so recorded (stop 44): it never dates her; the latest LMP, it leaves the LMP unknown
UNVERIFIED_LMP_MESSAGE = (
    "LMP is recorded on a result not known to be verified (its status, or that of the report "
    "or panel it is sent in, is preliminary, partial or unknown): neither it nor an LMP "
    "recorded before it dates the pregnancy; confirm the LMP"
)
# a crown-rump length so recorded (stop 45), or sent inside such a report or panel (stop 46): not a
# dating source, still a viability finding
UNVERIFIED_CRL_MESSAGE = (
    "crown-rump length is recorded on a result not known to be verified (its status, or that of "
    "the report or panel it is sent in, is preliminary, partial or unknown): it does not date "
    "the pregnancy; a CRL of 7 mm or more with no heartbeat still counts"
)
# an LMP whose value is not a day (stop 44): a month or a year only, or text
LMP_NOT_A_DAY_MESSAGE = (
    "LMP is given to a month or a year only, or not as a date (not a day in valueDateTime): "
    "the day is unknown, so neither it nor an LMP recorded before it dates the pregnancy"
)
# after "scan report of <its day>": a report that could not be read, dated after every location
# read in this pregnancy (`UNREAD_LOCATION`)
UNREAD_REPORT_MESSAGE = (
    " could not be read: what it shows is unknown, so where the pregnancy is and whether a fetal "
    "heartbeat was seen are taken as unknown from that day (an ectopic pregnancy seen before it "
    "still stands); read the report before deciding"
)
# after "scan finding of <its day>": a scan finding sent as an Observation whose versions are held
# back (`_UNREAD_FINDING_ROWS`), dated after every location read in this pregnancy (stop 29: it
# said "scan report", so a clinician looked for a report that was never sent)
UNREAD_FINDING_MESSAGE = (
    " could not be read: its versions (one id) cannot be ordered and say different things, so "
    "what it shows is unknown; where the pregnancy is and whether a fetal heartbeat was seen are "
    "taken as unknown from that day (an ectopic pregnancy seen before it still stands); read the "
    "finding in the record before deciding"
)
HEARTBEAT_CONFLICT_MESSAGE = (
    "fetal heart findings that day disagree or are uncertain; whether a heartbeat was seen is "
    "taken as unknown"
)
# a scan finding whose method names both routes (its own word, not a route)
ROUTE_BOTH = "both"
ROUTE_CONFLICT_MESSAGE = (
    "scan findings that day name both a transvaginal and a transabdominal route; the scan's "
    "route is taken as unknown (NG126 1.4.6-1.4.11 depend on it)"
)


# --- small builders -----------------------------------------------------------------------------


def _text(path: str) -> Expr:
    return Field(path, "str")


def _sum(items: tuple[Expr, ...]) -> Expr:
    """The sum of the items (None when any is None)."""
    total = items[0]
    for item in items[1:]:
        total = Arith("+", total, item)
    return total


def _present(path: str) -> Expr:
    return Not(IsNull(Field(path, "any")))


def _in(path: str, value_set: str) -> Expr:
    return InSet(Concept(path), value_set)


def _in_any(path: str, value_sets: tuple[str, ...]) -> Expr:
    return Or(tuple(_in(path, name) for name in value_sets))


def _yes(e: Expr) -> Expr:
    return IsTrue(e)


def _is(e: Expr, value: Any) -> Expr:
    """Is ``e`` this value? Never Unknown."""
    return IsTrue(Cmp("==", e, Const(value)))


def _status_in(e: Expr, name: str) -> Expr:
    return IsTrue(OneOf(e, tuple(sorted(status_list(name)))))


def _day_of(*paths: str) -> Expr:
    """The day of the first of these date elements that is there (as text: one of another JSON
    type is absent, and reported as `_malformed` says)."""
    out: Expr = Const(None)
    for path in reversed(paths):
        out = If(Not(IsNull(_text(path))), Day(_text(path)), out)
    return out


def _non_empty(e: Expr) -> Expr:
    return If(IsTrue(Cmp("!=", e, Const(""))), e, Const(None))


def _unit(quantity: str) -> Expr:
    """A Quantity's unit as the reader compares it: its code, else its unit, trimmed, lower."""
    return NormText(
        Coalesce(
            (
                _non_empty(_text(f"{quantity}.code")),
                _non_empty(_text(f"{quantity}.unit")),
                Const(""),
            )
        )
    )


def _greater(a: Expr, b: Expr) -> Expr:
    return If(IsTrue(Cmp(">=", a, b)), a, b)


def with_context(expr: Expr, names: dict[str, Expr]) -> Expr:
    """``expr`` (a rule-IR expression over facts) with each `Fact` replaced as ``names`` says:
    how a step uses the engine's own rules (`GESTATION_DAYS`) without a second formula."""
    if isinstance(expr, Fact):
        return names[expr.name]
    if not dataclasses.is_dataclass(expr):
        return expr
    changes = {}
    for f in dataclasses.fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, Expr):
            changes[f.name] = with_context(value, names)
        elif isinstance(value, tuple) and any(isinstance(v, Expr) for v in value):
            changes[f.name] = tuple(
                with_context(v, names) if isinstance(v, Expr) else v for v in value
            )
    return dataclasses.replace(expr, **changes) if changes else expr


# --- what an Observation's value says -------------------------------------------------------------

_VCC = "valueCodeableConcept"
_VALUE_BOOLEAN = Field("valueBoolean", "bool")

# What an Observation's value says of the finding in its code: seen (True), not seen (False), or
# None: a concept other than present/absent, any other value type, or a value said to be missing.
# With no value at all the Observation is of the finding itself: seen.
PRESENCE: Expr = If(
    Not(IsNull(_VALUE_BOOLEAN)),
    _VALUE_BOOLEAN,
    If(
        Not(IsNull(Concept(_VCC))),
        If(_in(_VCC, "absent"), Const(False), If(_in(_VCC, "present"), Const(True), Const(None))),
        If(
            Or(
                (
                    *(_present(name) for name in OBSERVATION_VALUES),
                    _present("dataAbsentReason"),
                    *(_present(f"_{name}") for name in PRIMITIVE_VALUES),
                )
            ),
            Const(None),
            Const(True),
        ),
    ),
)

# A period is dated by its start, else (a period given with its end only, as some systems write
# a scan session or an episode) by its end: it happened by then, never undated.
_OBSERVATION_DATES = (
    "effectiveDateTime",
    "effectivePeriod.start",
    "effectivePeriod.end",
    "effectiveInstant",
    "issued",
)
_OBSERVATION_DAY = _day_of(*_OBSERVATION_DATES)
# A Condition's (and an AllergyIntolerance's) day: onset[x], else recordedDate.
_CONDITION_DAY = _day_of("onsetDateTime", "onsetPeriod.start", "onsetPeriod.end", "recordedDate")


def _span_bound(day: Expr, last: bool, *bounds: str) -> Expr:
    """For a row with no full date (``day`` None): the first day (``last``: the last day) the first
    of these date elements that gives one can denote. A record may be dated to a month or a year
    only ("2019", "2019-06": FHIR R4 date and dateTime allow both, and GP systems write history
    entries so): what it records happened within that span. Only elements that bound it on that
    side are given: from above an onset, a period's end, the day it was recorded or issued (a
    period's start bounds nothing there); from below an onset or a period's start (the day it was
    recorded does not: a loss may be recorded years after)."""
    spans = tuple(SpanDay(_text(p), last=last) for p in bounds)
    return If(IsNull(day), Coalesce(spans), Const(None))


_CONDITION_EARLIEST_DAY = _span_bound(_CONDITION_DAY, False, "onsetDateTime", "onsetPeriod.start")
_CONDITION_LATEST_DAY = _span_bound(
    _CONDITION_DAY, True, "onsetDateTime", "onsetPeriod.end", "recordedDate"
)
# A status is read from its first coding's code (a coding may carry no system), or from any
# coding of the status's own HL7 code system: a system may put its local coding first.
_VERIFICATION = FirstCode(Concept("verificationStatus"))
_REFUTED = Or((_is(_VERIFICATION, "refuted"), _in("verificationStatus", "verification_refuted")))
_ENTERED_IN_ERROR = Or(
    (
        _is(_VERIFICATION, "entered-in-error"),
        _in("verificationStatus", "verification_entered_in_error"),
    )
)
# A Condition not known to be confirmed (condition-ver-status `unconfirmed`, `provisional`,
# `differential`; stop 42, issue 12): read as a scan result not known to be verified is. It never
# opens an offer (a previous miscarriage so recorded is not counted; bleeding so recorded does not
# say she is bleeding: both named), and a diagnosis that holds one back still counts. A Condition
# with no verificationStatus (optional in FHIR R4; most feeds omit it) is read as confirmed.
_UNCONFIRMED = IsTrue(
    Or(
        (
            _status_in(_VERIFICATION, "unconfirmed_condition_verification"),
            _in("verificationStatus", "verification_unconfirmed"),
        )
    )
)
_CLINICAL = FirstCode(Concept("clinicalStatus"))
_CLINICAL_ENDED = _in("clinicalStatus", "clinical_status_ended")
# abatement[x]: when the Condition ended (FHIR R4; an age, a range or words as well as a date)
_ABATEMENT = tuple(f"abatement{kind}" for kind in ("DateTime", "Period", "Age", "Range", "String"))
_ABATED = Or(tuple(_present(path) for path in _ABATEMENT))
# A clinicalStatus saying the Condition is over (inactive, resolved, remission): never None
_STATUS_ENDED = Or((_status_in(_CLINICAL, "resolved_condition_clinical"), _CLINICAL_ENDED))
_SUBJECT = RefId(_text("subject.reference"), "Patient")

# --- layer 1: the clinical rows -------------------------------------------------------------------

_HISTORY = AtLeast(Concept("code"), "miscarriage_history")
_EVENT = _in("code", "miscarriage_event")
# "History of ectopic pregnancy" (a GP's H/O entry): a previous ectopic, when not said (stop 31)
_ECTOPIC_HISTORY = _in("code", "ectopic_history")
_BLEEDING = _in("code", "bleeding")
_ECTOPIC = _in("code", "ectopic_pregnancy")
_IUP = _in("code", "intrauterine_pregnancy")
_VIABLE = _in("code", "viable_pregnancy")
_UNCERTAIN = _in("code", "uncertain_viability")
_RATE = _in("code", "fetal_heart_rate")
_LMP = _in("code", "last_menstrual_period")
_EDD = _in("code", "estimated_delivery_date")
_GA = _in("code", "gestational_age")
_CRL = _in("code", "crown_rump_length")
_MSD = _in("code", "mean_sac_diameter")

# Lengths (a crown-rump length, a mean sac diameter) in mm, or why one cannot be used.
_Q = "valueQuantity"
_Q_VALUE = Field(f"{_Q}.value", "num")
_LENGTH_KIND = If(_CRL, Const("crl"), If(_MSD, Const("msd"), Const(None)))
_FACTOR = Lookup(_unit(_Q), tuple(sorted(unit_factors().items())))
_RAW_MM = Round2(Arith("*", _Q_VALUE, _FACTOR))
_LENGTH_PROBLEM = If(
    IsNull(_LENGTH_KIND),
    Const(None),
    If(
        IsNull(_Q_VALUE),
        Const("no value"),
        If(
            _present(f"{_Q}.comparator"),  # "< 5 mm" is not 5 mm: it cannot date the pregnancy
            Const("bound"),
            If(
                IsNull(_FACTOR),
                Const("unit"),
                If(
                    _yes(
                        And(
                            (
                                Cmp(">=", _RAW_MM, Const(0.0)),
                                Cmp("<=", _RAW_MM, Const(MAX_MEASUREMENT_MM)),
                            )
                        )
                    ),
                    Const(None),
                    Const("range"),
                ),
            ),
        ),
    ),
)

# A recorded gestational age (stop 41, issue 12), as days: a valueQuantity in weeks or days
# (reading.json `gestational_age_units_to_days`: UCUM wk, d), no comparator, 0 to 45 weeks.
# Anything else it holds (no number, another unit or none, a bound, text) is never taken as weeks:
# the gestation is unreadable (`ga_unusable`). With no value[x] at all it is a sign of pregnancy
# only, as before (it records no gestation).
GESTATIONAL_AGE_MAX_DAYS = 45 * 7
_GA_FACTOR = Lookup(
    _unit(_Q), tuple(sorted(reading_config()["gestational_age_units_to_days"].items()))
)
_GA_RAW_DAYS = Round2(Arith("*", _Q_VALUE, _GA_FACTOR))
_GA_READABLE = _yes(
    And(
        (
            Not(_present(f"{_Q}.comparator")),
            Cmp(">=", _GA_RAW_DAYS, Const(0.0)),
            Cmp("<=", _GA_RAW_DAYS, Const(float(GESTATIONAL_AGE_MAX_DAYS))),
        )
    )
)
_GA_HAS_VALUE = Or(tuple(_present(name) for name in OBSERVATION_VALUES))
_GA_UNUSABLE = And((_GA, _GA_HAS_VALUE, Not(_GA_READABLE)))
# An EDD with a value that is not a date (stop 42, issue 12): valueString ("13/08/2024", as an
# HL7 v2 OBX of type ST converts), valuePeriod, valueQuantity, or a valueDateTime that is neither
# a day nor a month or year. It was ignored silently, so an LMP it may contradict dated her; it
# is named and, like a gestational age that cannot be read, keeps the LMP from dating. Text is
# not parsed as a date: every profile found (IPS, ISiK, zib, GP Connect, IHE mAPS) sends the EDD
# as valueDateTime, and a text's day order (13/08 or 08/13) cannot be known.
_EDD_UNUSABLE = And(
    (
        _EDD,
        _GA_HAS_VALUE,
        IsNull(Day(_text("valueDateTime"))),
        IsNull(SpanDay(_text("valueDateTime"), last=True)),
    )
)
# completed days (16.9 weeks is 118.3 days: 16+6); the value is in range, so `Floor` is safe
_GA_DAYS = If(_GA_READABLE, Floor(_GA_RAW_DAYS), Const(None))
_GA_LMP_LATEST = If(_GA, AddDays(_OBSERVATION_DAY, Arith("*", _GA_DAYS, Const(-1))), Const(None))
# a whole number of weeks is completed weeks: she may be up to 6 days further on
_GA_WHOLE_WEEKS = _yes(
    And((Cmp("==", _GA_FACTOR, Const(7)), Cmp("==", Floor(_GA_RAW_DAYS), _GA_RAW_DAYS)))
)
_GA_LMP_EARLIEST = If(_GA_WHOLE_WEEKS, AddDays(_GA_LMP_LATEST, Const(-6)), _GA_LMP_LATEST)

# A count of past pregnancy outcomes, as the HL7 IPS "History of Pregnancy" section records them
# (an Observation of LOINC 11614-5 "[#] Abortions.spontaneous" valued 2 with the unit '1'):
# `miscarriage_count` is the number of previous miscarriages; `abortion_count` counts every
# abortion, induced ones too, so only its 0 says anything of miscarriages (none) and any other
# number is named and not read. The value is valueInteger, else a valueQuantity with no unit or a
# count unit (`count_units` of reading.json) and no comparator; anything else (none, a bound,
# another unit, a decimal, below 0 or above `COUNT_MAX`) is named and not read.
_MISCARRIAGE_COUNT = _in("code", "miscarriage_count")
_ABORTION_COUNT = _in("code", "abortion_count")
_COUNTED = Or((_MISCARRIAGE_COUNT, _ABORTION_COUNT))
_COUNT_INTEGER = Field("valueInteger", "num")
_COUNT_NUMBER = If(Not(IsNull(_COUNT_INTEGER)), _COUNT_INTEGER, _Q_VALUE)
_COUNT_UNITS = tuple(sorted(status_list("count_units")))
_COUNT_IN_RANGE = IsTrue(
    And((Cmp(">=", _COUNT_NUMBER, Const(0)), Cmp("<=", _COUNT_NUMBER, Const(COUNT_MAX))))
)
_COUNT_FAULT = If(
    IsNull(_COUNT_NUMBER),
    Const("no value"),
    If(
        IsNull(_COUNT_INTEGER),
        If(
            _present(f"{_Q}.comparator"),
            Const("bound"),
            If(_yes(OneOf(_unit(_Q), _COUNT_UNITS)), Const(None), Const("unit")),
        ),
        Const(None),
    ),
)
_COUNT_FAULT_TEXT = {
    "no value": "has no value (valueInteger, or valueQuantity of a count)",
    "bound": "is a bound (comparator), not a count",
    "unit": "is not a count (its unit is not '1' or '{#}')",
    "range": f"is not a whole number from 0 to {COUNT_MAX}",
}
# the number only when in the range, so that `Floor` (a cast to a 64-bit integer on the batch
# engines, which may compute it for every row whatever the CASE around it says) never meets 1e300
_COUNT_IN_RANGE_NUMBER = If(_COUNT_IN_RANGE, _COUNT_NUMBER, Const(None))
# the fault, else "range" unless the number is in the range and whole
_COUNT_CHECK = If(
    IsNull(_COUNT_FAULT),
    If(
        _yes(Cmp("==", Floor(_COUNT_IN_RANGE_NUMBER), _COUNT_IN_RANGE_NUMBER)),
        Const(None),
        Const("range"),
    ),
    _COUNT_FAULT,
)
_COUNT = If(_yes(And((_COUNTED, IsNull(_COUNT_CHECK)))), Floor(_COUNT_IN_RANGE_NUMBER), Const(None))
ABORTIONS_NOT_MISCARRIAGES = (
    "number of abortions counts terminations and miscarriages together: it cannot say how many "
    "were miscarriages; ignored"
)


def _count_faults(what: str) -> Expr:
    return Lookup(
        _COUNT_CHECK,
        tuple(
            (key, f"number of {what} {text}; ignored") for key, text in _COUNT_FAULT_TEXT.items()
        ),
    )


_COUNT_PROBLEM = If(
    _MISCARRIAGE_COUNT,
    _count_faults("miscarriages"),
    If(
        _ABORTION_COUNT,
        If(
            _yes(Cmp(">=", _COUNT, Const(1))),
            Const(ABORTIONS_NOT_MISCARRIAGES),
            _count_faults("abortions"),
        ),
        Const(None),
    ),
)
# What a count says as a history entry: n previous miscarriages at least, or none (0, read as a
# refuted history code is: `_PREVIOUS`); None when it says nothing of miscarriages.
_COUNT_HISTORY = If(_MISCARRIAGE_COUNT, _COUNT, If(_is(_COUNT, 0), Const(0), Const(None)))

# Fetal heart activity of an Observation: "seen", "absent", "uncertain", or None; a rate that
# cannot say is reported (`_RATE_PROBLEM`).
_HAS_VALUE_ANSWER = Or((Not(IsNull(_VALUE_BOOLEAN)), Not(IsNull(Concept(_VCC)))))
_RATE_PROBLEM = If(
    _RATE,
    If(
        _present(_Q),
        If(
            _yes(
                Or(
                    (
                        IsNull(_Q_VALUE),
                        _present(f"{_Q}.comparator"),
                        Cmp("<", _Q_VALUE, Const(0)),
                    )
                )
            ),
            Const("fetal heart rate is not a rate of 0 or more (no value, a bound or < 0)"),
            Const(None),
        ),
        If(
            _yes(_HAS_VALUE_ANSWER),
            If(
                IsNull(PRESENCE),
                Const("fetal heart rate value is not a rate or present/absent"),
                Const(None),
            ),
            Const("fetal heart rate has no value"),
        ),
    ),
    Const(None),
)
_SEEN_OR_ABSENT = If(PRESENCE, Const("seen"), Const("absent"))
_OBSERVATION_HEART = If(
    _RATE,
    If(
        IsNull(_RATE_PROBLEM),
        If(
            _present(_Q),
            If(Cmp(">", _Q_VALUE, Const(0)), Const("seen"), Const("absent")),
            _SEEN_OR_ABSENT,
        ),
        Const(None),
    ),
    If(
        Or((_VIABLE, _UNCERTAIN)),
        # a finding recorded as not present says nothing either way
        If(
            _is(PRESENCE, False),
            Const(None),
            If(_yes(And((PRESENCE, _VIABLE))), Const("seen"), Const("uncertain")),
        ),
        If(
            _in(_VCC, "viable_pregnancy"),
            Const("seen"),
            If(_in(_VCC, "uncertain_viability"), Const("uncertain"), Const(None)),
        ),
    ),
)
_CONDITION_HEART = If(
    _REFUTED,
    Const(None),
    If(_VIABLE, Const("seen"), If(_UNCERTAIN, Const("uncertain"), Const(None))),
)

# A preliminary result (not yet verified) never confirms an intrauterine pregnancy, which
# progesterone needs: its "intrauterine" is read as "unconfirmed", no location (an earlier
# confirmed one still stands; reported). Its ectopic or uncertain finding still counts: either
# only holds an offer back.
UNCONFIRMED_LOCATION = "unconfirmed"
# An intrauterine pregnancy recorded as not seen ("Intrauterine pregnancy: No", valueBoolean
# false): that day's scan did not confirm one, so where the pregnancy is that day is unknown. It
# was said to say nothing, so an intrauterine pregnancy seen on an earlier day stood and the card
# offered progesterone on it (stop 40). Ranked as an uncertain finding: it ends the carried
# location. An ectopic pregnancy recorded as not seen still says nothing.
IUP_NOT_SEEN_LOCATION = "intrauterine_not_seen"
IUP_NOT_SEEN_MESSAGE = (
    "scan finding records an intrauterine pregnancy as not seen; where the pregnancy is that day "
    "is taken as unknown"
)

# An estimated date of delivery is 280 days after the LMP (the NG126 reference's dating, 40+0)
EDD_DAYS_AFTER_LMP = 280
EDD_LMP_TOLERANCE_DAYS: int = reading_config()["edd_lmp_tolerance_days"]
LMP_AGAINST_EDD_MESSAGE = (
    "LMP disagrees with the estimated date of delivery recorded: it is more than "
    f"{EDD_LMP_TOLERANCE_DAYS} days from the LMP that date implies, 280 days before it; the "
    "pregnancy is not dated by this LMP"
)
LMP_AGAINST_GESTATIONAL_AGE_MESSAGE = (
    "LMP disagrees with the gestational age recorded: it is more than "
    f"{EDD_LMP_TOLERANCE_DAYS} days from the LMP that gestation implies (the day it was taken "
    "less the gestation); the pregnancy is not dated by this LMP"
)
LMP_UNCHECKED_MESSAGE = (
    "LMP is not used to date the pregnancy: a gestational age or an estimated date of delivery "
    "recorded beside it cannot be read, so whether they agree is unknown"
)
GESTATIONAL_AGE_UNREADABLE_MESSAGE = (
    "gestational age has no value that can be read (a number of weeks, wk, or days, d, with no "
    "comparator): it is not taken as weeks, and the LMP does not date the pregnancy"
)
EDD_NOT_A_DAY_MESSAGE = (
    "estimated date of delivery is given to a month or a year only, not a day: it cannot check "
    "the LMP, which does not date the pregnancy"
)
EDD_UNREADABLE_MESSAGE = (
    "estimated date of delivery has a value that is not a date (a valueDateTime): it cannot "
    "check the LMP, which does not date the pregnancy"
)
BLEEDING_ABATED_MESSAGE = (
    "bleeding is recorded as abated, with no clinical status: whether she is bleeding now is "
    "unknown"
)
BLEEDING_ACTIVE_ABATED_MESSAGE = (
    "bleeding is recorded as abated, yet its clinical status is not inactive, resolved or "
    "remission, so the record contradicts itself: whether she is bleeding now is unknown"
)
# What `bleeding_abated` holds for a bleeding Condition with abatement[x]: no clinicalStatus
# (stop 40), or one that does not say it is over, such as `active` (stop 41); None otherwise
BLEEDING_ABATED_NO_STATUS = "no_status"
BLEEDING_ABATED_WITH_STATUS = "with_status"


def _location(unconfirmed: Expr) -> Expr:
    """Where the pregnancy is, by an Observation (or a scan report's conclusion, read as one):
    its code is the finding (its value says whether it was seen; neither yes nor no makes it
    "uncertain"), else a generic code with the finding as its value. An ectopic pregnancy
    recorded as not present says nothing; an intrauterine one so recorded leaves that day's
    location unknown (``IUP_NOT_SEEN_LOCATION``). An intrauterine finding whose status is
    ``unconfirmed`` (in a list of ``reading.json``) confirms nothing."""
    intrauterine = If(
        unconfirmed,
        Const(UNCONFIRMED_LOCATION),
        Const("intrauterine"),
    )
    return If(
        Or((_IUP, _ECTOPIC)),
        If(
            IsNull(PRESENCE),
            Const("uncertain"),
            If(
                PRESENCE,
                If(_ECTOPIC, Const("ectopic"), intrauterine),
                If(_ECTOPIC, Const(None), Const(IUP_NOT_SEEN_LOCATION)),
            ),
        ),
        If(
            _in(_VCC, "ectopic_pregnancy"),
            Const("ectopic"),
            If(_in(_VCC, "intrauterine_pregnancy"), intrauterine, Const(None)),
        ),
    )


_UNCONFIRMED_OBSERVATION = _status_in(_text("status"), "unconfirmed_observation_status")

# where the finding says the pregnancy is, by its own status (whether a location is given at all
# does not depend on the status)
_OBSERVATION_LOCATION = _location(_UNCONFIRMED_OBSERVATION)

_CLINICAL_COLUMNS = (
    "observed",
    "day",
    "earliest_day",
    "latest_day",
    "history_at_least",
    "refuted",
    # a Condition not known to be confirmed (`_UNCONFIRMED`): it never opens an offer
    "unconfirmed",
    "count_problem",
    # the id of a "Medication/x" a methotrexate-or-not record for an ectopic names and the record
    # does not hold, or holds with no code and no name (`_MEDICINE_UNKNOWN`): named among the
    # problems, with `count_problem` the text after it
    "missing_medication",
    # a history entry of a previous ectopic pregnancy (`ectopic_history`), not placed (stop 31)
    "ectopic_history",
    # a Procedure's row (a treatment of a miscarriage or an ectopic, dated by performed[x])
    "procedure",
    "miscarriage",
    "mis_unreadable",
    "lmp_code",
    "lmp_value",
    # an LMP with a value that is not a day (a month or a year only, text: stop 44)
    "lmp_unreadable",
    # the LMP an estimated date of delivery implies (280 days before it): checks the LMP
    "edd_lmp",
    # an EDD given to a month or a year only: the latest LMP it implies (it cannot check one)
    "edd_coarse_lmp",
    # an EDD whose value is not a date at all (text, a period, a quantity: stop 42)
    "edd_unusable",
    # the latest and earliest LMP a recorded gestational age implies (the day less the
    # gestation; one in whole weeks spans 7 days), or why the gestation cannot be read
    "ga_lmp_latest",
    "ga_lmp_earliest",
    "ga_unusable",
    "length_kind",
    "length_problem",
    "unit",
    "raw_mm",
    "mm",
    "bleeding_code",
    "bleeding",
    "bleeding_resolved",
    "bleeding_abated",
    "heart",
    "heart_problem",
    "location",
    "scan_route",
    # what shows a current pregnancy (`earlypath.fhir.pregnancy`)
    "recorded",
    "abated",
    "ends",
    "shows",
    "not_pregnant",
    "hcg_unit",
)


def _clinical(
    resource: str,
    when: Expr,
    columns: dict[str, Expr],
    items: ItemRows | None = None,
    patient: Expr = _SUBJECT,
) -> RowSpec:
    none = Const(None)
    return RowSpec(
        "clinical",
        resource,
        when,
        patient,
        tuple((name, columns.get(name, none)) for name in _CLINICAL_COLUMNS),
        items=items,
    )


# The value sets that make a Condition or an Observation worth reading (its code; for a scan or
# heart finding, its value).
_MISCARRIAGE_SETS = ("miscarriage_event", "miscarriage_history")
_CONDITION_FINDING_SETS = (
    "bleeding",
    "ectopic_pregnancy",
    "ectopic_history",
    "viable_pregnancy",
    "uncertain_viability",
)
_OBSERVATION_CODE_SETS = (
    *_MISCARRIAGE_SETS,
    "miscarriage_count",
    "abortion_count",
    "ectopic_history",
    "last_menstrual_period",
    "estimated_delivery_date",
    "crown_rump_length",
    "mean_sac_diameter",
    "fetal_heart_rate",
    "bleeding",
    "intrauterine_pregnancy",
    "ectopic_pregnancy",
    "viable_pregnancy",
    "uncertain_viability",
)
_OBSERVATION_VALUE_SETS = (
    "intrauterine_pregnancy",
    "ectopic_pregnancy",
    "viable_pregnancy",
    "uncertain_viability",
)
_CONDITION_IGNORED = Or(
    (_status_in(_VERIFICATION, "ignored_condition_verification"), _REFUTED, _ENTERED_IN_ERROR)
)
_USABLE_OBSERVATION = _status_in(_text("status"), "usable_observation_status")

# --- layer 1: current-pregnancy signs (`earlypath.fhir.pregnancy` documents them) -------------

_HCG_VALUE = Field(f"{_Q}.value", "num")
# A result written as words (a lab's "Negative", "NEG", "Not detected"), whole, as it reads as a
# negative test: in valueString, or as the text of a valueCodeableConcept.
_NEGATIVE_WORDS = tuple(sorted(status_list("negative_result_text")))


def _says_negative(path: str) -> Expr:
    return IsTrue(OneOf(NormText(_text(path)), _NEGATIVE_WORDS))


# A result sent with no value at all, only its interpretation (a lab's flag: FHIR R4
# Observation.interpretation, v3 ObservationInterpretation NEG "Negative" or ND "Not detected"),
# reads as the value Negative would (stop 40, issue 12: it ended nothing, so an LMP before it
# still dated a later scan). Any other interpretation (POS, DET, IND) leaves it a result that is
# not negative, as one with no value and no interpretation is. A value, where there is one,
# decides: the flag is only read in its absence.
_INTERPRETED_NEGATIVE = AnyItem("interpretation", InSet(Concept(""), "negative", words=False))

_HCG_NEGATIVE = If(
    Not(IsNull(_VALUE_BOOLEAN)),
    _is(_VALUE_BOOLEAN, False),
    If(
        Not(IsNull(Concept(_VCC))),
        Or((_in_any(_VCC, ("absent", "negative")), _says_negative(f"{_VCC}.text"))),
        If(
            Not(IsNull(_text("valueString"))),
            _says_negative("valueString"),
            If(
                IsNull(_HCG_VALUE),
                _INTERPRETED_NEGATIVE,
                If(
                    _yes(OneOf(_unit(_Q), HCG_UNITS)),
                    _yes(
                        Or(
                            (
                                Cmp("<", _HCG_VALUE, Const(HCG_NEGATIVE_BELOW)),
                                And(
                                    (
                                        OneOf(_text(f"{_Q}.comparator"), ("<", "<=")),
                                        Cmp("<=", _HCG_VALUE, Const(HCG_NEGATIVE_BELOW)),
                                    )
                                ),
                            )
                        )
                    ),
                    Const(False),
                ),
            ),
        ),
    ),
)
# An hCG value in a unit that is not compared (none, "U/L", "ng/mL"): the unit as written, or "".
_HCG_UNIT_UNREAD = If(
    _yes(
        And(
            (
                _in("code", "hcg"),
                IsNull(Field("valueBoolean", "bool")),
                IsNull(Concept(_VCC)),
                IsNull(_text("valueString")),
                Not(IsNull(_HCG_VALUE)),
                Not(OneOf(_unit(_Q), HCG_UNITS)),
            )
        )
    ),
    _unit(_Q),
    Const(None),
)
_OBSERVATION_SHOWS = Or(
    (
        _in_any("code", PREGNANCY_OBSERVATION_SETS),
        _in_any(_VCC, PREGNANCY_VALUE_SETS),
        And((_in("code", "pregnancy_status"), _in(_VCC, "pregnancy_status_pregnant"))),
        And((_in("code", "hcg"), Not(_HCG_NEGATIVE))),
    )
)
# A record that she is not pregnant: a pregnancy status answered so, a negative hCG, or the
# "not pregnant" finding itself (recorded as present, or with no value).
_OBSERVATION_NOT_PREGNANT = Or(
    (
        And((_in("code", "pregnancy_status"), _in(_VCC, "not_pregnant"))),
        And((_in("code", "hcg"), _HCG_NEGATIVE)),
        And((_in("code", "not_pregnant"), _is(PRESENCE, True))),
    )
)
# A Condition that shows a pregnancy (a miscarriage: only on its own days; see `_SIGN_SHOWS`).
_CONDITION_ENDS = And((Not(_CONDITION_IGNORED), _in_any("code", PREGNANCY_END_SETS)))
_CONDITION_SHOWS = And((Not(_CONDITION_IGNORED), _in_any("code", PREGNANCY_CONDITION_SETS)))
_CONDITION_NOT_PREGNANT = And((Not(_CONDITION_IGNORED), _in("code", "not_pregnant")))


# What makes a Condition worth reading (its code).
_CONDITION_READ = Or(
    (
        And(
            (
                Not(_ENTERED_IN_ERROR),
                _in_any("code", (*_MISCARRIAGE_SETS, *_CONDITION_FINDING_SETS)),
            )
        ),
        _CONDITION_ENDS,
        _CONDITION_SHOWS,
        _CONDITION_NOT_PREGNANT,
    )
)
_CONDITION_ROWS = _clinical(
    "Condition",
    _CONDITION_READ,
    {
        "recorded": Day(_text("recordedDate")),
        "abated": _day_of("abatementDateTime", "abatementPeriod.start", "abatementPeriod.end"),
        "ends": _CONDITION_ENDS,
        "shows": _CONDITION_SHOWS,
        "not_pregnant": _CONDITION_NOT_PREGNANT,
        "observed": Const(False),
        "day": _CONDITION_DAY,
        "earliest_day": _CONDITION_EARLIEST_DAY,
        "latest_day": _CONDITION_LATEST_DAY,
        "history_at_least": _HISTORY,
        "refuted": _REFUTED,
        "unconfirmed": _UNCONFIRMED,
        "ectopic_history": And((_ECTOPIC_HISTORY, Not(_REFUTED))),
        "miscarriage": And((_EVENT, IsNull(_HISTORY), Not(_REFUTED))),
        "mis_unreadable": Const(False),
        "bleeding_code": _BLEEDING,
        "bleeding": If(
            _BLEEDING,
            If(
                _REFUTED,
                Const(False),
                If(Or((_STATUS_ENDED, _UNCONFIRMED)), Const(None), Const(True)),
            ),
            Const(None),
        ),
        "bleeding_resolved": And((_BLEEDING, Not(_REFUTED), _STATUS_ENDED)),
        # Abated, with no clinicalStatus or one that does not say it is over (FHIR R4 con-4
        # wants one of inactive, resolved or remission; real feeds leave it out, or leave it
        # `active`, stop 41): the record says the bleeding may have ended, so an `active` beside
        # the abatement decides nothing. Which of the two (None: not abated, or its status says
        # it is over, read as resolved above); whether it had ended by the assessment day is read
        # per encounter (`_BLEEDING_MAY_HAVE_ENDED`).
        "bleeding_abated": If(
            And((_BLEEDING, Not(_REFUTED), _ABATED, Not(_STATUS_ENDED))),
            If(
                IsNull(Concept("clinicalStatus")),
                Const(BLEEDING_ABATED_NO_STATUS),
                Const(BLEEDING_ABATED_WITH_STATUS),
            ),
            Const(None),
        ),
        "heart": _CONDITION_HEART,
        "location": If(And((_ECTOPIC, Not(_REFUTED))), Const("ectopic"), Const(None)),
    },
)

# A Procedure that treats an ectopic pregnancy (a salpingectomy or salpingotomy for one, its
# laparoscopic removal: the procedure codes of `ectopic_pregnancy`) or a miscarriage (only a
# procedure specific to one, `miscarriage_event`: an evacuation of retained products of conception
# or a vacuum aspiration may follow a termination or a delivery, so it is not read) shows that
# pregnancy was ectopic, or miscarried, as a Condition of it does (stop 31: no Procedure was read,
# so a previous ectopic recorded only as its salpingectomy left `previous_ectopic` Unknown, and
# one of this pregnancy was unseen). Placed by performed[x] (a period by its start, else its end;
# a partial date by its span, as a Condition's onset). One not done or entered in error says
# nothing (`reading.json` `procedure_not_performed_status`); a planned, begun or stopped one
# still shows the condition it treats. A miscarriage's procedure before this pregnancy counts as
# at least one previous miscarriage, never beside the dated losses (it treats a loss that may be
# recorded otherwise, on another day: `before_days` leaves it out).
_PROCEDURE_DAY = _day_of("performedDateTime", "performedPeriod.start", "performedPeriod.end")
_PROCEDURE_STATUS = _text("status")
# Performed, as a filter tests it bare (no COALESCE: a filter drops None as False, and a bare AND
# tests the status only on the rows its code kept; docs/speed.md, FHIR round 10): no status (read,
# as before), or one that is not "not done" / "entered in error". The status's OneOf is None only
# when there is no status, which the first part answers, so the whole is never None.
_PROCEDURE_PERFORMED = Or(
    (
        IsNull(_PROCEDURE_STATUS),
        Not(OneOf(_PROCEDURE_STATUS, tuple(sorted(status_list("procedure_not_performed_status"))))),
    )
)
_PROCEDURE_ROWS = _clinical(
    "Procedure",
    And((Or((_ECTOPIC, _EVENT)), _PROCEDURE_PERFORMED)),
    {
        "observed": Const(False),
        "procedure": Const(True),
        "day": _PROCEDURE_DAY,
        "earliest_day": _span_bound(
            _PROCEDURE_DAY, False, "performedDateTime", "performedPeriod.start"
        ),
        "latest_day": _span_bound(_PROCEDURE_DAY, True, "performedDateTime", "performedPeriod.end"),
        "miscarriage": _EVENT,
        "mis_unreadable": Const(False),
        "location": If(_ECTOPIC, Const("ectopic"), Const(None)),
    },
)

# A reason given as a `reasonReference` to a Condition contained in the resource itself
# (`"reasonReference": [{"reference": "#c1"}]`, the Condition in `contained`: stop 35), as an EHR
# sends an indication recorded only with the order or the procedure. The contained Condition
# counts when its code is an ectopic pregnancy and it is neither refuted nor entered in error, as
# an ectopic reasonCode does: one fact, one row (`_ECTOPIC_REASON`, stop 37; stop 35 read it by a
# spec of its own, beside the item rows of its reasonCodes). Which reference names it: any "#"
# reasonReference, each compared with each contained Condition (`AnyResourceItem`: the
# references read from inside each contained item, stop 38). An order exported with its
# indications (Epic, Cerner, EMIS) contains several Conditions; stop 35 followed the first local
# reference only and stop 36 any reference to the first contained ectopic only, so a second
# contained ectopic named only by a later reference said nothing (never False). A contained
# ectopic no reasonReference names (one its `supportingInformation` names) is not its reason.
_ECTOPIC_CONDITION_CONTAINED = And(
    (
        _is(_text("resourceType"), "Condition"),
        _in("code", "ectopic_pregnancy"),
        Not(_REFUTED),
        Not(_ENTERED_IN_ERROR),
    )
)
_NAMED_BY_A_REASON = AnyResourceItem(
    "reasonReference", IsTrue(Cmp("==", LocalId(_text("reference")), Outer(_text("id"))))
)
_CONTAINED_ECTOPIC_REASON = AnyItem(
    "contained", And((_ECTOPIC_CONDITION_CONTAINED, _NAMED_BY_A_REASON))
)

# A procedure done for many reasons (a salpingectomy, which also sterilises; an evacuation of the
# uterus, which may follow a miscarriage, a termination or a delivery) shows an ectopic or a
# miscarriage only by its `reasonCode`, where real EHRs and Synthea put the indication (stop 33):
# a salpingectomy (`ectopic_procedure_by_reason`) whose reason is an ectopic pregnancy treated one;
# an evacuation (`miscarriage_procedure_by_reason`) whose reason is a miscarriage (missed,
# incomplete, inevitable: `miscarriage_event`, which holds no termination) treated one. A reason
# in text only, or in another set (a sterilisation, a termination), says nothing. Only treatments
# are listed: a scan or a look whose reason is a suspected ectopic proves nothing. A
# `reasonReference` to a Condition of her record is read through that Condition, as any Condition
# is; one to a Condition the Procedure contains, by `_CONTAINED_ECTOPIC_REASON` (stop 35). Placed,
# statused and read as the procedures above (`_PROCEDURE_ROWS`).
#
# One procedure, one row (stop 37, issue 12): a procedure is one operation on one day, and its
# reasons are what it treated. GP systems and hospital PAS exports write one indication several
# times (34801009 and a child of it; a SNOMED concept beside its Read or ICD-10 O00.x one, each
# a reasonCode of its own): until stop 37 each reasonCode was read as a row of its own (item
# rows), so an undated salpingectomy was named once per reason and could be counted twice. Its
# reasons are now read as one fact each, "any reasonCode in the set" (`AnyItem` of the
# reasonCode list, each item a concept: `Concept("")`), and a contained ectopic reason is the
# same fact (no spec of its own). A procedure whose reasons name an ectopic pregnancy and a
# miscarriage (possible only when its own code is in both procedure sets: one concept coded as a
# salpingectomy and as an evacuation) gives one row that carries both facts, the location
# "ectopic" and the miscarriage, as a Procedure or Condition whose own code is in both sets always
# has (`_PROCEDURE_ROWS`): each fact is read "yes" only where a code and a reason of that meaning
# say so, and each aggregate reads its own fact, so what the two rows read is read, and nothing
# is added. The row's columns are constants of the facts, never taken from one reason, so no
# reason has to be chosen over another.
_REASON_IS_ECTOPIC = AnyItem("reasonCode", InSet(Concept(""), "ectopic_pregnancy"))
_REASON_IS_MISCARRIAGE = AnyItem("reasonCode", InSet(Concept(""), "miscarriage_event"))
_ECTOPIC_REASON = Or((_REASON_IS_ECTOPIC, _CONTAINED_ECTOPIC_REASON))
_TREATED_ECTOPIC_BY_REASON = And((_in("code", "ectopic_procedure_by_reason"), _ECTOPIC_REASON))
_TREATED_MISCARRIAGE_BY_REASON = And(
    (_in("code", "miscarriage_procedure_by_reason"), _REASON_IS_MISCARRIAGE)
)
_PROCEDURE_BY_REASON_ROWS = _clinical(
    "Procedure",
    And(
        (
            Or((_TREATED_ECTOPIC_BY_REASON, _TREATED_MISCARRIAGE_BY_REASON)),
            _PROCEDURE_PERFORMED,
        )
    ),
    {
        **dict(_PROCEDURE_ROWS.columns),
        "miscarriage": _TREATED_MISCARRIAGE_BY_REASON,
        "location": If(_TREATED_ECTOPIC_BY_REASON, Const("ectopic"), Const(None)),
    },
)

# An obstetric ultrasound panel (LOINC's US panels, an EHR's "early pregnancy scan" result, a
# DICOM SR OB-GYN report converted to FHIR) may give the crown-rump length, the mean sac
# diameter, the fetal heart rate or a heart or location finding as a `component` (code +
# value[x], as US Core's blood pressure gives its two values), not as an Observation of its own.
# Each component is read as that Observation would be, by the same row spec: its code, value[x],
# dataAbsentReason, interpretation and referenceRange are the component's, everything else
# (status, subject, encounter, the date) the panel's, so a panel in error gives no row and a
# problem names the panel. Unnested into rows before the checks, not read per component inside
# the row: that wrote every unit check out again at each use (a 4 MB Spark statement, stop 15).
COMPONENT_ROWS = ItemRows(
    "component",
    (
        "code",
        *OBSERVATION_VALUES,
        *(f"_{name}" for name in PRIMITIVE_VALUES),
        "dataAbsentReason",
        "interpretation",
        "referenceRange",
    ),
)

_MISCARRIAGE_CODED = _in_any("code", _MISCARRIAGE_SETS)
# The findings a partial date is read for (as a span): a miscarriage, an ectopic pregnancy (its
# code, or a generic finding code valued so)
_SPAN_READ = Or((_EVENT, _ECTOPIC, _in(_VCC, "ectopic_pregnancy")))
# What makes an Observation (or a scan report's conclusion, read as one) worth reading.
_OBSERVATION_READ = Or(
    (
        _in_any("code", _OBSERVATION_CODE_SETS),
        _in_any(_VCC, _OBSERVATION_VALUE_SETS),
        _OBSERVATION_SHOWS,
        _OBSERVATION_NOT_PREGNANT,
    )
)
# The scan's route (NG126 1.4.6-1.4.11 ask for it): the beam path a finding's method names (DICOM
# CID 12025 codes). Both routes' codes in one method say nothing: "both", reported on the day.
_METHOD_TRANSVAGINAL = _yes(_in("method", "transvaginal_approach"))
_METHOD_TRANSABDOMINAL = _yes(_in("method", "transabdominal_approach"))
_OBSERVATION_SCAN_ROUTE = If(
    _METHOD_TRANSVAGINAL,
    If(_METHOD_TRANSABDOMINAL, Const(ROUTE_BOTH), Const("transvaginal")),
    If(_METHOD_TRANSABDOMINAL, Const("transabdominal"), Const(None)),
)
# An Observation that would open an offer, of a status not known to be verified (`preliminary`,
# `unknown`: `reading.json` unconfirmed_observation_status; stop 43, issue 12): bleeding recorded
# as present, or a previous miscarriage (a finding present, or a count above 0). Read as a
# Condition not confirmed is (`_UNCONFIRMED`): it never opens one (bleeding is Unknown from it,
# such a miscarriage is not counted; both named), while what holds one back ("absent", a count
# of 0, a loss of this pregnancy) still counts.
_UNVERIFIED_BLEEDING = And((_BLEEDING, _is(PRESENCE, True)))
# Stop 44: an LMP so recorded never dates her either: in the `lmp` step it is a row of no value
# (newest, it leaves the LMP unknown, as such bleeding does; a final LMP recorded later dates her).
# Stop 45: nor does a crown-rump length so recorded (`_DATING_CRL`, the scans' `crl_unverified`),
# yet its millimetres still count for viability (a CRL of 7 mm or more with no heartbeat).
# Stop 47: every one of these findings kept inside a report or a panel not known to be verified
# (a partial report) is read as if its own status were so (`_observation_columns`).
_OPENS_OR_DATES = Or(
    (
        _UNVERIFIED_BLEEDING,
        And((_MISCARRIAGE_CODED, _is(PRESENCE, True))),
        And((_COUNTED, IsTrue(Cmp(">", _COUNT_HISTORY, Const(0))))),
        _LMP,
        _CRL,
    )
)


def _observation_columns(unverified: Expr) -> dict[str, Expr]:
    """An Observation's row columns, ``unverified`` saying whether its result is not known to be
    verified: its own status (`_UNCONFIRMED_OBSERVATION`), or for a finding kept inside a report
    or panel, its own or its container's (stop 47, HAZ-20 C20.35). Every column that reads the
    status reads it from ``unverified`` alone, so a finding final inside a partial report is
    read exactly as a preliminary Observation of its own is."""
    return {
        **_OBSERVATION_COLUMNS,
        "unconfirmed": And((unverified, _OPENS_OR_DATES)),
        "bleeding": If(
            _BLEEDING,
            If(And((unverified, _UNVERIFIED_BLEEDING)), Const(None), PRESENCE),
            Const(None),
        ),
        "location": _location(unverified),
    }


# the columns that do not read the status; `_observation_columns` adds those that do
_OBSERVATION_COLUMNS: dict[str, Expr] = {
    "ends": Const(False),
    "shows": _OBSERVATION_SHOWS,
    "not_pregnant": _OBSERVATION_NOT_PREGNANT,
    "hcg_unit": _HCG_UNIT_UNREAD,
    "observed": Const(True),
    "day": _OBSERVATION_DAY,
    # a loss or an ectopic finding dated to a month or a year only: the span it lies in
    "earliest_day": If(
        _SPAN_READ,
        _span_bound(_OBSERVATION_DAY, False, "effectiveDateTime", "effectivePeriod.start"),
        Const(None),
    ),
    "latest_day": If(
        _SPAN_READ,
        _span_bound(_OBSERVATION_DAY, True, "effectiveDateTime", "effectivePeriod.end", "issued"),
        Const(None),
    ),
    # a miscarriage or history Observation is a finding: present is the record, absent a
    # recorded "no" (as a refuted Condition), any other value is reported and not used
    # (a count of past miscarriages is a history entry of its own: `_COUNT_HISTORY`)
    "history_at_least": If(_COUNTED, _COUNT_HISTORY, If(IsNull(PRESENCE), Const(None), _HISTORY)),
    "refuted": Or((And((_MISCARRIAGE_CODED, _is(PRESENCE, False))), _is(_COUNT_HISTORY, 0))),
    "count_problem": _COUNT_PROBLEM,
    # recorded as present (or with no value): a recorded "no" says nothing (never False)
    "ectopic_history": And((_ECTOPIC_HISTORY, _is(PRESENCE, True))),
    "miscarriage": And((_EVENT, IsNull(_HISTORY), _is(PRESENCE, True))),
    "mis_unreadable": And((_MISCARRIAGE_CODED, IsNull(PRESENCE))),
    "lmp_code": _LMP,
    # the LMP is its valueDateTime: every profile found (CHMED, AU, Thai MoPH, LOINC 8665-2
    # examples) carries it there; that a UK GP system's event date is the LMP itself (a code
    # with no value) could not be verified in any public source, so it is not read so
    "lmp_value": If(_LMP, Day(_text("valueDateTime")), Const(None)),
    # a value that is not a day ("2023-10", "2023", text): ignored, an older full LMP dated her
    # though the newer says her period was another time (stop 44); it is the latest, of no day
    "lmp_unreadable": And((_LMP, _GA_HAS_VALUE, IsNull(Day(_text("valueDateTime"))))),
    # an EDD is its valueDateTime (IPS Observation-pregnancy-edd, ISiK, zib Pregnancy)
    "edd_lmp": If(
        _EDD, AddDays(Day(_text("valueDateTime")), Const(-EDD_DAYS_AFTER_LMP)), Const(None)
    ),
    # "2024-08": the LMP it implies is somewhere in a month, too coarse to check one against
    "edd_coarse_lmp": If(
        And((_EDD, Not(IsNull(_text("valueDateTime"))), IsNull(Day(_text("valueDateTime"))))),
        AddDays(SpanDay(_text("valueDateTime"), last=True), Const(-EDD_DAYS_AFTER_LMP)),
        Const(None),
    ),
    "edd_unusable": _EDD_UNUSABLE,
    "ga_lmp_latest": _GA_LMP_LATEST,
    "ga_lmp_earliest": _GA_LMP_EARLIEST,
    "ga_unusable": _GA_UNUSABLE,
    "length_kind": _LENGTH_KIND,
    "length_problem": _LENGTH_PROBLEM,
    "unit": If(IsNull(_LENGTH_KIND), Const(None), _unit(_Q)),
    "raw_mm": If(IsNull(_LENGTH_KIND), Const(None), _RAW_MM),
    "mm": If(IsNull(_LENGTH_PROBLEM), If(IsNull(_LENGTH_KIND), Const(None), _RAW_MM), Const(None)),
    "bleeding_code": _BLEEDING,
    "bleeding_resolved": Const(False),
    "bleeding_abated": Const(None),
    "heart": _OBSERVATION_HEART,
    "heart_problem": _RATE_PROBLEM,
    "scan_route": _OBSERVATION_SCAN_ROUTE,
}
_VERSION_ORDER = ("at", "amends")


def _own(path: str) -> str:
    """A report element read from the report itself (not around a contained finding)."""
    return path


def _subject_at(path: Callable[[str], str]) -> Expr:
    """The patient of the version at ``path`` (its subject), as its rows name her."""
    return RefId(_text(path("subject.reference")), "Patient")


def _version_columns(path: Callable[[str], str] = _own) -> tuple[tuple[str, Expr], ...]:
    """A version's id and rank (``path`` maps a report element to where it is read from: the
    report, or `_of_report` around a contained finding)."""
    return (
        ("id", _text(path("id"))),
        ("at", Coalesce((_text(path("meta.lastUpdated")), _text(path("issued")), Const("")))),
        (
            "amends",
            If(_status_in(_text(path("status")), "amending_report_status"), Const(1), Const(0)),
        ),
    )


def _is_top(table: str, path: Callable[[str], str] = _own) -> Expr:
    """Is this version ranked first of its (patient, id) (by the rank of ``table``'s row)?"""
    own = dict(_version_columns(path))
    return And(
        tuple(
            Cmp(
                "==",
                own[c],
                Joined(table, own["id"], c, order=_VERSION_ORDER, patient=_subject_at(path)),
            )
            for c in _VERSION_ORDER
        )
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _ItemsSay:
    """What the list items of the versions ranked first say, compared as rows (stop 31, HAZ-20
    C20.22): each item that ``says`` (a resource's own row too, when it does) gives a row of
    ``<kind>_<name>`` holding its ``value`` (never None), read through ``items`` as the reading
    reads them (so no unit or code test is written again inside a list scope: the 742k-character
    statement of stop 30's try). The versions of an id are held back when two such rows of the
    id differ. A version whose rows are absent is told apart by ``present`` (compared per
    version with the other ``says`` columns)."""

    name: str
    items: ItemRows
    says: Expr
    value: Expr
    present: Expr


def _differ(table: str, columns: tuple[str, ...]) -> Expr:
    """Do two rows of ``table`` of this (patient, id) differ in one of ``columns``?"""
    return Or(
        tuple(
            Cmp(
                "!=",
                Joined(table, _text("id"), c, order=(c,), patient=_SUBJECT),
                Joined(table, _text("id"), c, order=(c,), least=True, patient=_SUBJECT),
            )
            for c in columns
        )
    )


class _Versions:
    """The three tables ranking the versions of one resource type sharing an id, per patient:
    every version's rank (``<kind>_versions``), what each version ranked first says
    (``<kind>_tops``), and per (patient, id) the rank read and whether it is held back
    (``<kind>_chosen``), with the tests the reading's specs ask of a version; and a table per
    `_ItemsSay` of what their list items say (``<kind>_<name>``)."""

    def __init__(
        self,
        kind: str,
        resource: str,
        says: tuple[tuple[str, Expr], ...],
        alone: bool = False,
        items_say: tuple[_ItemsSay, ...] = (),
    ) -> None:
        self.versions, self.tops, self.chosen = (
            f"{kind}_{t}" for t in ("versions", "tops", "chosen")
        )
        # ``alone``: first ask whether the id has one version only (its first and last row in
        # input order are one), so that the ranking is done only for the ids sent more than
        # once: a test of two look-ups where every resource of the type has an id (each
        # Observation of a record), most of them sent once (stop 28: the CDS reading's cost)
        self.asks_alone = alone
        self.alone: Expr = self.alone_at()
        ranked = And((Not(self.alone), _yes(_is_top(self.versions)))) if alone else None
        top = ranked or _yes(_is_top(self.versions))
        present = tuple((f"{i.name}_present", i.present) for i in items_say)
        self.specs: tuple[RowSpec, ...] = (
            RowSpec(
                self.versions, resource, Not(IsNull(_text("id"))), _SUBJECT, _version_columns()
            ),
            RowSpec(self.tops, resource, top, _SUBJECT, (("id", _text("id")), *says, *present)),
        )
        differ = _differ(self.tops, tuple(c for c, _ in says))
        if items_say:
            # the items' rows are compared in a table of their own, joined once into
            # ``<kind>_chosen``: each `Joined` nests the whole row again in the compiled view,
            # and four more there took it past Spark's parser bound (tests/records/
            # test_code_table.py)
            items_differ = f"{kind}_items_differ"
            self.specs += (
                *(
                    RowSpec(
                        f"{kind}_{i.name}",
                        resource,
                        # one flat And (``Not(alone)`` an item of it): the Python engine then
                        # skips these rows when no id repeats, as the tops'. ``repeated()``
                        # too (the same joins): the audit folds it to False for an id sent
                        # once, so its rows come from the repeated (patient, id) pairs only and
                        # the compiler unnests only their components (stop 33: these tables
                        # had unnested every Observation's)
                        And(
                            (
                                *(top.items if isinstance(top, And) else (top,)),
                                self.repeated(),
                                _yes(i.says),
                            )
                        ),
                        _SUBJECT,
                        (("id", _text("id")), ("value", i.value)),
                        items=i.items,
                    )
                    for i in items_say
                ),
                RowSpec(
                    items_differ,
                    resource,
                    top,
                    _SUBJECT,
                    (
                        ("id", _text("id")),
                        (
                            "differ",
                            _yes(
                                Or(
                                    (
                                        _yes(_differ(self.tops, tuple(c for c, _ in present))),
                                        *(
                                            _yes(
                                                And(
                                                    (
                                                        self.repeated(),
                                                        _differ(f"{kind}_{i.name}", ("value",)),
                                                    )
                                                )
                                            )
                                            for i in items_say
                                        ),
                                    )
                                )
                            ),
                        ),
                    ),
                ),
            )
            # each compare its own IsTrue: where no id repeats, the compiler reads the tops'
            # joins as the resource's own row and folds each to False on its own
            # (`own_rows._folded`), so no list test is left for the item rows to read
            differ = Or(
                (
                    _yes(differ),
                    Joined(
                        items_differ, _text("id"), "differ", order=("differ",), patient=_SUBJECT
                    ),
                )
            )
        self.specs += (
            RowSpec(
                self.chosen,
                resource,
                ranked or _yes(_is_top(self.versions)),
                _SUBJECT,
                (*_version_columns(), ("held", _yes(differ))),
            ),
        )

    def alone_at(self, path: Callable[[str], str] = _own) -> Expr:
        """Is the version at ``path`` the only one of its (patient, id)? (Const(False) when
        the type is not versioned with ``alone``.) At a report around a contained finding,
        that report's (stop 30: report versions asked so too)."""
        if not self.asks_alone:
            return Const(False)
        key, patient = _text(path("id")), _subject_at(path)
        return _yes(
            Cmp(
                "==",
                Joined(self.versions, key, "n", patient=patient),
                Joined(self.versions, key, "n", least=True, patient=patient),
            )
        )

    def repeated(self) -> Expr:
        """Is this version's (patient, id) on more than one row? Written so that where no id
        repeats the compiler, reading the joins as the resource's own row, folds it to False
        (`own_rows._folded`) and with it the joins of the item tables it guards."""
        key = _text("id")
        return _yes(
            Cmp(
                "!=",
                Joined(self.versions, key, "n", patient=_SUBJECT),
                Joined(self.versions, key, "n", least=True, patient=_SUBJECT),
            )
        )

    def read(self, path: Callable[[str], str] = _own) -> Expr:
        """Is this version the one read (or it has no id)?"""
        held = Joined(self.chosen, _text(path("id")), "held", patient=_subject_at(path))
        ranked = And((_is_top(self.chosen, path), _is(held, False)))
        if self.asks_alone:
            return Or((IsNull(_text(path("id"))), self.alone_at(path), ranked))
        return Or((IsNull(_text(path("id"))), ranked))

    def read_of_chosen(self, path: Callable[[str], str] = _own) -> Expr:
        """Is the version at ``path`` the one read, asked of ``<kind>_chosen`` only (a type
        versioned with ``alone``): its rows are the ids sent more than once, so an id not in it
        was sent once and is read; one in it is read when ranked first and not held. The same
        answer as `read`, with no join of ``<kind>_versions``: the chosen table holds the same
        rows when the audit keeps only the repeated pairs' rows (`EpisodeSpec.pairs_only`), so
        an item row may join it (stop 45: a panel's contained members)."""
        assert self.asks_alone, "an id sent once is in the chosen table unless asked alone"
        held = Joined(self.chosen, _text(path("id")), "held", patient=_subject_at(path))
        ranked = And((_is_top(self.chosen, path), _is(held, False)))
        return Or((IsNull(_text(path("id"))), IsNull(held), ranked))

    def held(self, path: Callable[[str], str] = _own) -> Expr:
        """Is this version one of those ranked first of its id, held back as they disagree?"""
        held = Joined(self.chosen, _text(path("id")), "held", patient=_subject_at(path))
        return And((_yes(_is_top(self.chosen, path)), _is(held, True)))


# --- layer 1: versions of an Observation (stop 28) ----------------------------------------------

# A scan finding sent as an Observation is re-sent, amended or corrected, with the id of the
# version it replaces, as a scan report is (its reading, "Versions of one scan report" below):
# one version of a (patient, id) is read, ranked as a report's versions are (meta.lastUpdated,
# else issued, then amended / corrected / appended), whatever the order of the input. Applied to
# every Observation with an id, not to scan findings only: a text-only amendment of a finding
# carries the generic code of the coded original (LOINC 59776-5 "Procedure findings") and no
# value any set reads, so no code set tells a scan finding's versions from the others'; and an
# amended hCG, length or heart rate replacing its original is as true of them (one reading of
# versions for every Observation, not one per finding kind). So: a text-only amendment replaces
# the coded finding (which is then not read: the scan's location unknown, never the superseded
# "intrauterine"); a latest version entered in error or cancelled (not usable, never read)
# withdraws it; versions left tied that say different things (status, value text, coded value,
# quantity, components) are held back: none read, named by the Observation's ref (its id only),
# and a held scan finding makes the day's scan one not read (`_UNREAD_FINDING_ROWS`).
OBSERVATION_VERSIONS_HELD_MESSAGE = (
    "versions of this finding (one id) cannot be ordered by time or status and say "
    "different things: none read, what it shows is unknown"
)


def _component_first(value: Expr) -> Expr:
    """``value`` read from the first of a panel's components that has one ("" for none): each
    component read as the Observation of its code and value, as `COMPONENT_ROWS` reads it."""
    return Coalesce((FirstItem("component", Not(IsNull(value)), value), Const("")))


# Where a panel's component says the pregnancy is: whether the panel confirms it (its status) is
# the panel's, compared and read apart, so the component's own is not asked (it has none)
_COMPONENT_LOCATION_VALUE = _location(Const(False))
# Does a panel give a location in one of its components (a scan finding read as its own row)?
_COMPONENT_LOCATION = AnyItem("component", Not(IsNull(_COMPONENT_LOCATION_VALUE)))

# The length a panel's crown-rump length or mean sac diameter component gives, as the reading
# takes it (stop 31, HAZ-20 C20.22): millimetres rounded to 0.01 from the unit's factor, so "7 mm"
# and "0.7 cm" are one length and not held (reading either dates her alike and puts her on the
# same side of 7.0 mm); -1 when the length is not read (no value, a bound "< 7 mm", an unknown
# unit): a version giving a length and one giving none that can be read say different things.
# Compared row by row from the component rows, never the text or display (a version differing
# only in wording says the same length: holding it would lose a length both give).
_COMPONENT_LENGTH_AS_READ = Coalesce(
    (If(IsNull(_LENGTH_PROBLEM), _RAW_MM, Const(None)), Const(-1.0))
)

_OBSERVATION_VERSIONING = _Versions(
    "observation",
    "Observation",
    (
        ("status", Coalesce((_text("status"), Const("")))),
        ("text", Coalesce((_text("valueString"), _text(f"{_VCC}.text"), Const("")))),
        ("coded", Coalesce((FirstCode(Concept(_VCC)), Const("")))),
        # -1 stands for no quantity: only compared, never read as a value
        ("quantity", Coalesce((_Q_VALUE, Const(-1.0)))),
        ("components", AnyItem("component", Const(True))),
        # what a panel's components say of where the pregnancy is and of the heart (stop 29):
        # two tied panels whose location component is intrauterine in one and text only (or
        # ectopic) in the other say different things, so they are held back, not both read
        ("component_location", _component_first(_COMPONENT_LOCATION_VALUE)),
        ("component_heart", _component_first(_OBSERVATION_HEART)),
    ),
    alone=True,
    items_say=tuple(
        _ItemsSay(
            f"component_{length}",
            COMPONENT_ROWS,
            _is(_LENGTH_KIND, length),
            _COMPONENT_LENGTH_AS_READ,
            AnyItem("component", code),
        )
        for length, code in (("crl", _CRL), ("msd", _MSD))
    ),
)
_OBSERVATION_VERSIONS = _OBSERVATION_VERSIONING.specs
_OBSERVATION_VERSION_READ = _OBSERVATION_VERSIONING.read()
# held only where its (patient, id) repeats (the same value: held versions are two or more),
# asked first: the audit folds it to False for an id sent once, so a row spec whose condition
# needs it (`_UNREAD_FINDING_ROWS`) reads the repeated pairs' Observations only, not every
# Observation of the export (stop 34: a filter over all of them keeping none, ~7% of the
# clinical rows' statement). Not a report's: its contained findings read its joins as items
_OBSERVATION_VERSION_HELD = And(
    (_OBSERVATION_VERSIONING.repeated(), _OBSERVATION_VERSIONING.held())
)

# The location of a record coded in no value set the reading reads whose words name a pregnancy
# loss or an ectopic pregnancy (stop 44, `_LOCALLY_CODED_ROWS`; HAZ-20 C20.32)
LOCALLY_CODED_LOCATION = "coded_locally"


def _names_a_loss(*paths: str) -> Expr:
    """Does one of these concepts name a loss or an ectopic in words, none of them a threat or a
    history?"""
    return And(
        (
            _in_any_of(paths, "locally_coded_loss"),
            Not(_in_any_of(paths, "locally_coded_not_now")),
        )
    )


def _in_any_of(paths: tuple[str, ...], value_set: str) -> Expr:
    return Or(tuple(_in(path, value_set) for path in paths))


# An Observation (or a panel's component) the reading does not read, whose code's or value's words
# name a loss or an ectopic pregnancy: a GP system's local code ("uncategorised data" is sent as
# Observations), a hospital's scan conclusion as text or a local coding (stop 45, HAZ-20 C20.32;
# it was read as no record, so such a loss of today left the card offering). It is a row of the
# Observation's own spec, located "coded_locally" as a Condition or Procedure so coded is
# (`_LOCALLY_CODED_ROWS`): a condition and a column of the one spec, not a spec of its own,
# because a second Observation spec in the clinical table ends the generated reading's shared
# visit (`python_reading.shared_visit`: a panel's components read by `with_its_items`; stop 44).
_OBSERVATION_WORDS_NAME_A_LOSS = _names_a_loss("code", _VCC)
# The Observations a panel's `hasMember` refers to as resources of their own (stop 49, HAZ-20
# C20.35): a reporting system exports a `preliminary` panel and its members beside it, each
# `final` as it is measured (a crown-rump length): such a member is not verified either. Table
# ``panel_member_references``: a row per reference of each panel version, the member's id
# (`RefId`, relative, absolute or "urn:uuid:"), the panel version's rank (`_version_columns`)
# and whether its status is unconfirmed; the member reads the row of the latest panel version
# referring to it (`_REFERRED_BY_UNFINISHED`: of tied ones, the unconfirmed), so a panel sent
# preliminary then final leaves its member verified. Ranked at the join, not by the panel's
# chosen version (`_Versions.read_of_chosen`), because the table must join nothing of the
# Observation's: a table filled after the versions' visit would be read in a visit of its own
# before the Observation's rows and end their shared visit (`python_reading.shared_visit`,
# tests/records/test_shared_visit.py; stop 48's attempt). This spec joins nothing, so the
# generated reading fills it in the Observation's first visit, beside the versions' count.
# Entered in error or cancelled panels give no row (they are not read: the member is read on
# its own status). A member of a panel of another patient is not hers (the patient compared).
PANEL_REFERENCE_ROWS = ItemRows("hasMember", ("reference",))
_PANEL_REFERENCE_ORDER = ("at", "amends", "unconfirmed")
_PANEL_MEMBER_REFERENCES = RowSpec(
    "panel_member_references",
    "Observation",
    And(
        (
            _status_in(_text("status"), "usable_observation_status"),
            Not(IsNull(RefId(_text("reference"), "Observation"))),
        )
    ),
    _SUBJECT,
    (
        ("id", RefId(_text("reference"), "Observation")),
        *(c for c in _version_columns() if c[0] != "id"),
        ("unconfirmed", If(_UNCONFIRMED_OBSERVATION, Const(1), Const(0))),
    ),
    items=PANEL_REFERENCE_ROWS,
)
# An Observation sent as its own resource that a report or panel not known to be verified refers
# to (`_UNFINISHED_RESULTS`) is read as unverified, whatever its own status (stop 48)
_REFERRED_BY_UNFINISHED = Or(
    (
        Not(IsNull(Joined("unfinished_results", _text("id"), "id", patient=_SUBJECT))),
        # or the latest panel version referring to it (`_PANEL_MEMBER_REFERENCES`) is unfinished
        _is(
            Joined(
                "panel_member_references",
                _text("id"),
                "unconfirmed",
                order=_PANEL_REFERENCE_ORDER,
                patient=_SUBJECT,
            ),
            1,
        ),
    )
)
_OBSERVATION_ROWS = _clinical(
    "Observation",
    And(
        (
            _USABLE_OBSERVATION,
            Or((_OBSERVATION_READ, _OBSERVATION_WORDS_NAME_A_LOSS)),
            _OBSERVATION_VERSION_READ,
        )
    ),
    {
        **_observation_columns(Or((_UNCONFIRMED_OBSERVATION, _REFERRED_BY_UNFINISHED))),
        # read: its scan location as before; otherwise it is here for its words alone
        "location": If(
            _OBSERVATION_READ,
            _location(Or((_UNCONFIRMED_OBSERVATION, _REFERRED_BY_UNFINISHED))),
            Const(LOCALLY_CODED_LOCATION),
        ),
    },
    COMPONENT_ROWS,
)

# --- layer 1: medicines and allergies ------------------------------------------------------------

_NAMES_PROGESTERONE = Or(
    (
        _in("code", "progesterone"),
        AnyItem("ingredient", _in("itemCodeableConcept", "progesterone")),
    )
)
# The systems whose codes say what a medicine is (with their OIDs): a medicine coded in one of
# them, named (the coding's display or the concept's text), and neither code nor name in the
# progesterone set is not progesterone. One with no such code (text only, a local code, no code at
# all) is unidentified: whether it is progesterone is Unknown. So is one with such a code and no
# name: the set lists a few product codes only, and a bare dm+d, SNOMED CT or RxNorm product code
# (a Utrogestan AMP, a progesterone SCD) cannot be told not to be progesterone.
_MEDICATION_SYSTEMS = tuple(
    sorted(
        {
            name
            for system in status_list("medication_code_systems")
            for name in (system, *code_system_aliases().get(system, ()))
        }
    )
)


def _named_in_known_system(concept: str) -> Expr:
    """A code of a known system that comes with a name: its own display, or the concept's text."""

    def coded(*named: Expr) -> Expr:
        known = IsTrue(OneOf(_text("system"), _MEDICATION_SYSTEMS))
        return AnyItem(
            f"{concept}.coding", And((known, IsTrue(Cmp("!=", _text("code"), Const(""))), *named))
        )

    return Or(
        (
            coded(IsTrue(Cmp("!=", _text("display"), Const("")))),
            And((coded(), IsTrue(Cmp("!=", _text(f"{concept}.text"), Const(""))))),
        )
    )


_MEDICATION_IDENTIFIED = Or(
    (
        _named_in_known_system("code"),
        AnyItem("ingredient", _named_in_known_system("itemCodeableConcept")),
    )
)
# A progestogen that is not progesterone (dydrogesterone, hydroxyprogesterone caproate,
# norethisterone, medroxyprogesterone: `progestogen`, words only). Not progesterone, so it stays
# "another medicine" where it was one (the audit's care given: it is not the NG126 product);
# for whether she is on progesterone, a current one holds the decision back (stop 52): offering
# vaginal progesterone beside another progestogen needs a clinician's review.
_NAMES_PROGESTOGEN = Or(
    (
        _in("code", "progestogen"),
        AnyItem("ingredient", _in("itemCodeableConcept", "progestogen")),
    )
)
# A Medication's medicine: progesterone (True), another medicine (False), or Unknown (None).
_MEDICATION_PROGESTERONE = If(
    _NAMES_PROGESTERONE, Const(True), If(_MEDICATION_IDENTIFIED, Const(False), Const(None))
)
# A Medication is methotrexate when its code or an ingredient's is (`_METHOTREXATE_NAMED`).
_NAMES_METHOTREXATE_MEDICATION = Or(
    (
        _in("code", "methotrexate"),
        AnyItem("ingredient", _in("itemCodeableConcept", "methotrexate")),
    )
)


def _judged(concept: str) -> Expr:
    """A concept that says which medicine it is (not methotrexate, asked first): a code of a
    medicine another of our value sets lists (progesterone), or a name (its text, a coding's
    display). The set's codes only: any word of it is in a name, which this reads anyway."""
    return Or(
        (
            InSet(Concept(concept), "progesterone", words=False),
            IsTrue(Cmp("!=", _text(f"{concept}.text"), Const(""))),
            AnyItem(f"{concept}.coding", IsTrue(Cmp("!=", _text("display"), Const("")))),
        )
    )


# What a medicine's record says of its medicine (`_MEDICINE_SAYS`), as numbers ranked so that one
# comparison reads the rows (`_MEDICINE_READ`): methotrexate above every unknown, another
# medicine below. Numbers, not words: the filter compares the value once, where a `Lookup` of
# words ranking it compiles to a CASE that writes the (large) value again for each word (stop 40,
# tests/records/test_medicine_read_once.py).
SAYS_OTHER = 0
SAYS_UNRESOLVED = 1  # a "#med1" to no contained Medication
SAYS_MISSING = 2  # a "Medication/x" the record does not hold
SAYS_UNNAMED = 3  # a Medication the record holds (exported), with no code and no name
SAYS_UNNAMED_CONTAINED = 4  # the same, contained
SAYS_METHOTREXATE = 9


def _medication_methotrexate(unknown: int) -> Expr:
    """Whether a Medication the record holds (exported, included in the prefetch, or contained)
    was methotrexate (stop 39, issue 12): `SAYS_METHOTREXATE` (its code or an ingredient's in
    `methotrexate`), `SAYS_OTHER` (its code or an ingredient's says another medicine: a code of
    another medicine one of our value sets lists, or a name without the word), or ``unknown``
    (a `SAYS_*` rank): no code and no name
    (`code` absent, or only codes no value set lists, with no display and no text). Where the
    line is: a code we list of another medicine (a progesterone dm+d or RxNorm product) is that
    medicine, so not methotrexate, and nothing is said; a name is read as what it says (the word
    is matched; a brand we do not list reads as another medicine, as a reference's display
    does); a code we cannot judge with no name may be any medicine, methotrexate among them (a
    dm+d VMPP or AMPP, a local code): Unknown, named with an ectopic reason. Never None, so
    that a Medication not found (None) is told from one found that cannot say."""
    return If(
        _NAMES_METHOTREXATE_MEDICATION,
        Const(SAYS_METHOTREXATE),
        If(
            Or((_judged("code"), AnyItem("ingredient", _judged("itemCodeableConcept")))),
            Const(SAYS_OTHER),
            Const(unknown),
        ),
    )


# A Medication's strength per unit (stop 55, HAZ-20 C20.76): its ingredient.strength, as Epic,
# Cerner and UK Core write a product with no dm+d VMP code ("progesterone 200 mg per 1
# capsule"). Read only when it cannot mean anything else: one ingredient, and that one
# progesterone (its code, or its text as names are read); a numerator in a mass unit
# (`MG_PER_UNIT`) above 0; a denominator of exactly 1 of a unit dose form (`DOSE_UNIT_FORMS`).
# The form is the key: it is None unless all of that holds, and a dose in units is read by the
# strength only when the dose names the same form. Anything else (two ingredients, a strength
# per mL, a denominator of 2): unknown. The mg are read with no test of their own (they are
# used only beside a form), so each is written once in the SQL of every dosage that reads it.
_FORM_PAIRS = tuple(sorted(DOSE_UNIT_FORMS.items()))


def _quantity_in(at: str, pairs: tuple[tuple[Any, Any], ...]) -> Expr:
    """The Quantity at ``at``'s unit (its code, else its unit text) looked up in ``pairs``."""
    return Coalesce(
        (
            Lookup(NormText(_text(f"{at}.code")), pairs),
            Lookup(NormText(_text(f"{at}.unit")), pairs),
        )
    )


_STRENGTH_MG = Arith(
    "*",
    Field("strength.numerator.value", "num"),
    _quantity_in("strength.numerator", tuple(sorted(MG_PER_UNIT.items()))),
)
_ONE_INGREDIENT = IsTrue(Cmp("==", ItemCount("ingredient", Const(True)), Const(1)))
# the mg per unit of its one ingredient, and the unit's form when the strength is read
# (read only beside its form, which is None unless it has one ingredient)
_MEDICATION_MG = FirstItem("ingredient", Const(True), _STRENGTH_MG)
_MEDICATION_FORM = If(
    And((_ONE_INGREDIENT, AnyItem("ingredient", _in("itemCodeableConcept", "progesterone")))),
    FirstItem(
        "ingredient",
        Const(True),
        If(
            And(
                (
                    IsTrue(Cmp("==", Field("strength.denominator.value", "num"), Const(1.0))),
                    # (the mg's factor is above 0: a numerator above 0 is mg above 0)
                    IsTrue(Cmp(">", Field("strength.numerator.value", "num"), Const(0.0))),
                )
            ),
            _quantity_in("strength.denominator", _FORM_PAIRS),
            Const(None),
        ),
    ),
    Const(None),
)

_MEDICATIONS = RowSpec.every(
    "medications",
    "Medication",
    None,
    (
        ("id", _text("id")),
        ("progesterone", _MEDICATION_PROGESTERONE),
        ("progestogen", _NAMES_PROGESTOGEN),
        # read by a medicine's methotrexate rows that name it (`_METHOTREXATE_NAMED`,
        # `_MEDICINE_SAYS`): methotrexate, another medicine, or no code and no name
        ("methotrexate", _medication_methotrexate(SAYS_UNNAMED)),
        # its strength per unit, read by a dose in units of it (`_MG_PER_UNIT_OF_DOSE`)
        ("mg_per_unit", _MEDICATION_MG),
        ("unit_form", _MEDICATION_FORM),
    ),
)

_REFERENCE = _text("medicationReference.reference")
_DISPLAY = _text("medicationReference.display")
_CONTAINED_TEST = And(
    (
        _is(_text("resourceType"), "Medication"),
        Cmp("==", _text("id"), Outer(LocalId(_REFERENCE))),
    )
)
_CONTAINED_FOUND = FirstItem("contained", _CONTAINED_TEST, Const(True))
_EXPORTED = RefId(_REFERENCE, "Medication")
_EXPORTED_FOUND = Not(IsNull(Joined("medications", _EXPORTED, "id")))
_RESOLVED = Or((_yes(_CONTAINED_FOUND), _yes(_EXPORTED_FOUND)))
# The reference's display, when nothing else says what the medicine is: a progesterone name is
# progesterone; any other text cannot say it is not (a brand we do not list), so Unknown.
_DISPLAY_SAYS = If(TextInSet(_DISPLAY, "progesterone"), Const(True), Const(None))
# What names the medicine of a request: its own concept, else the Medication it refers to
# (contained, then exported: its code and its ingredients' concepts), else the reference's
# display as text. A logical reference (no reference, an identifier) is named by its display.
# True: progesterone; False: a medicine coded and named as something else in a known system; None
# (Unknown): a medicine that cannot be identified, which may be progesterone.
_REQUEST_PROGESTERONE = If(
    Not(IsNull(Concept("medicationCodeableConcept"))),
    If(
        _in("medicationCodeableConcept", "progesterone"),
        Const(True),
        If(_named_in_known_system("medicationCodeableConcept"), Const(False), Const(None)),
    ),
    If(
        IsNull(Field("medicationReference", "any")),
        Const(None),
        If(
            IsNull(_non_empty(_REFERENCE)),
            _DISPLAY_SAYS,
            If(
                _yes(_CONTAINED_FOUND),
                Coalesce(
                    (
                        FirstItem("contained", _CONTAINED_TEST, _MEDICATION_PROGESTERONE),
                        _DISPLAY_SAYS,
                    )
                ),
                If(
                    _yes(_EXPORTED_FOUND),
                    Coalesce((Joined("medications", _EXPORTED, "progesterone"), _DISPLAY_SAYS)),
                    _DISPLAY_SAYS,
                ),
            ),
        ),
    ),
)
# Is the request's (or statement's) medicine a progestogen that is not progesterone? Its
# concept, else the Medication it refers to (contained, exported) or the reference's display.
_REQUEST_PROGESTOGEN = If(
    Not(IsNull(Concept("medicationCodeableConcept"))),
    _in("medicationCodeableConcept", "progestogen"),
    Or(
        (
            TextInSet(_DISPLAY, "progestogen"),
            _yes(FirstItem("contained", _CONTAINED_TEST, _NAMES_PROGESTOGEN)),
            _yes(Joined("medications", _EXPORTED, "progestogen")),
        )
    ),
)
_UNRESOLVED = And(
    (
        IsNull(Concept("medicationCodeableConcept")),
        Not(IsNull(_non_empty(_REFERENCE))),
        Not(_RESOLVED),
        IsNull(_DISPLAY),
    )
)
# Methotrexate given for an ectopic pregnancy (its medical management, NG126 1.6) shows that
# pregnancy was ectopic, as its salpingectomy does (stop 33): a MedicationRequest (prescribed),
# MedicationStatement (taken) or MedicationAdministration (given) whose medicine is methotrexate
# and whose reason is an ectopic pregnancy: any of its `reasonCode` concepts, or the Condition its
# reasonReference names in `contained` (`_ECTOPIC_REASON`, as a procedure's reasons are: one row
# per resource, stop 37). Methotrexate without such a reason says
# nothing: it also treats arthritis, psoriasis and cancers. Its medicine (stop 35): its
# medicationCodeableConcept in `methotrexate` (dm+d and RxNorm codes, or the word in its text or
# display), else the Medication its medicationReference names in `contained` (the request's
# `_CONTAINED_TEST`) or exported beside it ("Medication/x": Medication.ndjson, the CDS prefetch's
# `_include`), read as `_medication_methotrexate` reads a Medication, else the reference's
# display (`_MEDICINE_SAYS`). A medicine that may be methotrexate and cannot be told, with no
# display (`_MEDICINE_READ`), is named with an ectopic reason and says nothing else (Unknown, never
# False): a "#med1" to no contained Medication (`_METHOTREXATE_UNRESOLVED_MESSAGE`), a
# "Medication/x" the record does not hold (stop 38, `MISSING_MEDICATION_MESSAGE`), a Medication
# it holds with no code and no name (stop 39, `UNNAMED_MEDICATION_MESSAGE`,
# `CONTAINED_UNNAMED_MESSAGE`). For any other reason none of these is named: no concern of this
# reading. One spec per type reads all of it (stop 39): stop 35 joined the Medications in every
# spec and DuckDB materialised a CTE of them (+13.8% flatten instructions at 500 patients); stop
# 36 moved the exported Medication to a spec of its own, left out of an export without
# Medications, and stop 38 added a third for the missing one (+3.4%). Now an export without
# Medications reads the join as None with no join at all (`needed_joins.never_found`), so the
# one spec joins only where there are Medications to find. Placed by its date (a request's
# authoredOn; a statement's or an administration's effective[x], a period by its start), Unknown
# when it has none (as any undated ectopic: named, the location then unknown). Statuses that say
# it was not prescribed, taken or given say nothing (`reading.json`: a request's and an
# administration's as the audit's care given reads them; a statement's not taken or entered in
# error), nor a request not to give it.
# The Medication its reference names, as `_medication_methotrexate` reads it: contained ("#med1")
# or exported beside it ("Medication/x", the last of that id, as the progesterone reading joins
# it); None when the record holds none (or the reference names neither). One of the two at most:
# a reference is local or not. Its unknown is told apart by where the Medication is.
_REFERENCED_METHOTREXATE = Coalesce(
    (
        FirstItem("contained", _CONTAINED_TEST, _medication_methotrexate(SAYS_UNNAMED_CONTAINED)),
        Joined("medications", _EXPORTED, "methotrexate"),
    )
)
# What the record says of its medicine, read once (each reading of a Medication is a list's
# lambda in the compiled SQL, some kilobytes): `SAYS_METHOTREXATE` (its concept, else the
# reference's display or the Medication it names), `SAYS_OTHER` (another medicine the Medication
# says it is), `SAYS_UNNAMED` or `SAYS_UNNAMED_CONTAINED` (a Medication held with no code and no
# name), `SAYS_MISSING` (a "Medication/x" the record does not hold), `SAYS_UNRESOLVED` (a "#med1"
# to no contained Medication), or None (a concept of another medicine; no reference).
_MEDICINE_SAYS = If(
    IsNull(Concept("medicationCodeableConcept")),
    If(
        _yes(TextInSet(_DISPLAY, "methotrexate")),
        Const(SAYS_METHOTREXATE),
        Coalesce(
            (
                _REFERENCED_METHOTREXATE,
                If(
                    IsNull(LocalId(_REFERENCE)),
                    If(IsNull(_EXPORTED), Const(None), Const(SAYS_MISSING)),
                    Const(SAYS_UNRESOLVED),
                ),
            )
        ),
    ),
    If(_in("medicationCodeableConcept", "methotrexate"), Const(SAYS_METHOTREXATE), Const(None)),
)
# Read: methotrexate, whatever the reference's display; a medicine that may be methotrexate and
# cannot be told only with no display (a display that names another medicine says what it is).
# One comparison, so that `_MEDICINE_SAYS` is written once in the filter.
_MEDICINE_READ = IsTrue(
    Cmp(
        ">=",
        _MEDICINE_SAYS,
        If(IsNull(_DISPLAY), Const(SAYS_UNRESOLVED), Const(SAYS_METHOTREXATE)),
    )
)
_METHOTREXATE_UNRESOLVED_MESSAGE = (
    "its Medication could not be resolved and its reason is an ectopic pregnancy: whether it "
    "treated an ectopic pregnancy (methotrexate) is unknown"
)
CONTAINED_UNNAMED_MESSAGE = (
    "its contained Medication has no code or name the record reading knows and its reason is an "
    "ectopic pregnancy: whether it was methotrexate is unknown"
)
# after "names Medication/<id> " (the row's `missing_medication`)
MISSING_MEDICATION_MESSAGE = (
    "for an ectopic pregnancy, which the record does not include: whether it was methotrexate is "
    "unknown"
)
UNNAMED_MEDICATION_MESSAGE = (
    "for an ectopic pregnancy, which has no code or name the record reading knows: whether it was "
    "methotrexate is unknown"
)


def _methotrexate_row(
    resource: str, given: Expr, *dated_by: str, compiled_when_absent: bool = False
) -> RowSpec:
    """Rows of ``resource`` (a medicine's record) that gave methotrexate, or a medicine that
    may be methotrexate and cannot be told (`_MEDICINE_READ`, named), for an ectopic
    pregnancy, ``given`` by its status, dated by the first of ``dated_by`` (a period: start, then
    end), one row per resource whichever of its reasons (any ectopic reasonCode, a contained
    ectopic Condition) says so. ``compiled_when_absent`` for a type whose own table is compiled
    anyway (`RowSpec`)."""
    day = _day_of(*dated_by)
    starts = tuple(p for p in dated_by if not p.endswith(".end"))
    ends = tuple(p for p in dated_by if not p.endswith(".start"))
    columns: dict[str, Expr] = {
        "observed": Const(False),
        # a treatment, read as a procedure that treated it is
        "procedure": Const(True),
        "day": day,
        "earliest_day": _span_bound(day, False, *starts),
        "latest_day": _span_bound(day, True, *ends),
        "miscarriage": Const(False),
        "mis_unreadable": Const(False),
        "location": If(_is(_MEDICINE_SAYS, SAYS_METHOTREXATE), Const("ectopic"), Const(None)),
        # (with `missing_medication`, the text after the Medication's id)
        "count_problem": Lookup(
            _MEDICINE_SAYS,
            (
                (SAYS_UNRESOLVED, _METHOTREXATE_UNRESOLVED_MESSAGE),
                (SAYS_UNNAMED_CONTAINED, CONTAINED_UNNAMED_MESSAGE),
                (SAYS_MISSING, MISSING_MEDICATION_MESSAGE),
                (SAYS_UNNAMED, UNNAMED_MEDICATION_MESSAGE),
            ),
        ),
        "missing_medication": If(
            IsTrue(OneOf(_MEDICINE_SAYS, (SAYS_MISSING, SAYS_UNNAMED))), _EXPORTED, Const(None)
        ),
    }
    # one row per resource, however many of its reasons name an ectopic (`_ECTOPIC_REASON`)
    spec = _clinical(resource, And((_MEDICINE_READ, _ECTOPIC_REASON, given)), columns)
    return dataclasses.replace(spec, compiled_when_absent=compiled_when_absent)


_MEDICINE_EFFECTIVE = ("effectiveDateTime", "effectivePeriod.start", "effectivePeriod.end")
_METHOTREXATE_ROWS = (
    _methotrexate_row(
        "MedicationRequest",
        And(
            (
                _status_in(_text("status"), "care_given_request_status"),
                Not(_yes(Field("doNotPerform", "bool"))),
            )
        ),
        "authoredOn",
        # (MedicationRequest and MedicationStatement each give a table of their own, compiled
        # whether they have lines or not: an export without them shares the plan of one with
        # them, as before these specs; tests/records/test_absent_types.py)
        compiled_when_absent=True,
    ),
    _methotrexate_row(
        "MedicationStatement",
        Or(
            (
                IsNull(_text("status")),
                Not(
                    OneOf(_text("status"), tuple(sorted(status_list("statement_not_taken_status"))))
                ),
            )
        ),
        *_MEDICINE_EFFECTIVE,
        compiled_when_absent=True,
    ),
    _methotrexate_row(
        "MedicationAdministration",
        _status_in(_text("status"), "care_given_administration_status"),
        *_MEDICINE_EFFECTIVE,
    ),
)

# Her current progesterone against NG126 1.5.2's product, vaginal micronised progesterone 400 mg
# twice daily (`earlypath.products`: the plan's and a draft order's definition, stop 52). Read
# from her dosages (a request's dosageInstruction, a statement's dosage) as a draft order is
# compared with the plan (`fhir.medication_request.order_differences`): its route in the set of
# the route, its dose in mg, its doses a day (a timing code of twice daily, or repeat frequency /
# (period x its unit in days)). Each True (as NG126's), False (another), or None (not given:
# unknown, never assumed either way).
#
# The dose (stop 52, w-dosage52): doseAndRate's doseQuantity in a mass unit, or in units of the
# product ("2 capsules", "1 pessary") times the strength per unit of her product's dm+d VMP code
# (`products.VMP_MG_PER_UNIT`; no strength is read from a name, so any other product's dose in
# units stays unknown). doseAndRate is a list in R4; one object in its place (the CDS Hooks
# order-select example writes it so, and order-select's `_items` reads it as a list of one) is
# read here as a list of one too, so a draft order and her record read a dosage alike.
#
# Several dosages (a sequence: a loading dose, then another; morning and night written apart):
# each is read, and an aspect is True only when every dosage gives it as NG126's, False when any
# dosage gives another (the course is not the product throughout: review), else None. The first
# dosage alone could read as NG126's product while the next one is not.
_MG_PAIRS = tuple(sorted(MG_PER_UNIT.items()))
_UNIT_PAIRS = tuple((word, 1.0) for word in sorted(DOSE_UNIT_WORDS))


def _dose_in(pairs: tuple[tuple[Any, Any], ...], at: str = "") -> Expr:
    """The dose of the doseQuantity at ``at`` times its unit's factor in ``pairs``, or None."""
    value = Field(f"{at}doseQuantity.value", "num")
    # None when either is None (Arith is Unknown then): the factor written once (stop 54)
    return Arith("*", value, _quantity_in(f"{at}doseQuantity", pairs))


def _first_dose(read: Callable[[str], Expr]) -> Expr:
    """``read`` of a dosage's first doseAndRate that gives it (one object read as a list of
    one): ``read`` takes the path before doseQuantity."""
    listed = read("")
    return Coalesce((FirstItem("doseAndRate", Not(IsNull(listed)), listed), read("doseAndRate.")))


def _dose_form_in(at: str) -> Expr:
    """The unit dose form of the doseQuantity at ``at`` when it gives a value (so of the same
    doseAndRate `_DOSE_UNITS` reads: the forms' words are the units')."""
    value = Field(f"{at}doseQuantity.value", "num")
    return If(IsNull(value), Const(None), _quantity_in(f"{at}doseQuantity", _FORM_PAIRS))


_DOSE_MG = _first_dose(lambda at: _dose_in(_MG_PAIRS, at))
_DOSE_UNITS = _first_dose(lambda at: _dose_in(_UNIT_PAIRS, at))
_DOSE_FORM = _first_dose(_dose_form_in)
_PERIOD = Field("timing.repeat.period", "num")
_FREQUENCY = Field("timing.repeat.frequency", "num")
# Day parts (`products.DAY_PARTS`: timing.repeat.when, a list of codes, each item read as itself)
# with no timing code, frequency nor period: a dose a distinct day part, when every code is one
# of them; any other code leaves it unknown. Given with a frequency, the frequency is read (a
# frequency of one a day beside morning and night is "not twice a day": a review, never an offer).
_WHEN = "timing.repeat.when"
_DAY_PART = Field("", "str")
_WHEN_PER_DAY = If(
    Or(
        (
            Not(AnyItem(_WHEN, Const(True))),
            AnyItem(_WHEN, Not(IsTrue(OneOf(_DAY_PART, DAY_PARTS)))),
            Not(IsNull(Concept("timing.code"))),
            _present("timing.repeat.frequency"),
            _present("timing.repeat.period"),
        )
    ),
    Const(None),
    # how many distinct day parts are listed (a code written twice is one day part)
    _sum(tuple(If(AnyItem(_WHEN, _is(_DAY_PART, p)), Const(1.0), Const(0.0)) for p in DAY_PARTS)),
)
_PER_DAY = If(
    InSet(Concept("timing.code"), "twice_daily"),
    Const(2.0),
    If(
        IsTrue(Cmp(">", _PERIOD, Const(0.0))),
        Arith(
            "/",
            _FREQUENCY,
            Arith(
                "*",
                _PERIOD,
                Lookup(_text("timing.repeat.periodUnit"), (("d", 1.0), ("h", 1 / 24), ("wk", 7.0))),
            ),
        ),
        _WHEN_PER_DAY,
    ),
)


def _is_vmp(code: str) -> Expr:
    """Is her medicine (medicationCodeableConcept) coded as this dm+d VMP?"""
    test = And((_is(_text("system"), DMD_SYSTEM), _is(_text("code"), code)))
    return AnyItem("medicationCodeableConcept.coding", test)


# The strength per unit of her product, when it is known for certain: the codes of two VMPs of
# different strengths on one medicine contradict each other, and leave it unknown.
_VMPS = tuple(sorted(VMP_MG_PER_UNIT.items()))


def _vmp_mg_per_unit() -> Expr:
    """The mg per unit of her product, when its strength is known (one VMP of the set, not
    contradicted by another), else None: a value of the resource, read once."""
    mg_per_unit: Expr = Const(None)
    for code, mg in _VMPS:
        others = tuple(Not(_is_vmp(other)) for other, _ in _VMPS if other != code)
        mg_per_unit = If(And((_is_vmp(code), *others)), Const(float(mg)), mg_per_unit)
    return mg_per_unit


_VMP_MG_PER_UNIT = _vmp_mg_per_unit()


def _referred(column: str, of_medication: Expr) -> Expr:
    """A value of the Medication her record refers to: contained ("#id"), else exported
    ("Medication/id": the medications table's ``column``; "#id" names no exported one)."""
    return Coalesce(
        (
            FirstItem("contained", _CONTAINED_TEST, of_medication),
            Joined("medications", _EXPORTED, column),
        )
    )


# The strength of the Medication she is on (stop 55): its mg per unit of the form its
# ingredient.strength names, read by a dose in units of that form only (`_DOSE_FORM`); her
# product's VMP code, when she has one, gives its strength for a dose in any unit of it.
_MG_PER_UNIT_OF_DOSE = Coalesce(
    (
        Outer(_VMP_MG_PER_UNIT),
        If(
            IsTrue(Cmp("==", _DOSE_FORM, Outer(_referred("unit_form", _MEDICATION_FORM)))),
            Outer(_referred("mg_per_unit", _MEDICATION_MG)),
            Const(None),
        ),
    )
)


_AS_NG126 = {
    "route_as_ng126": If(
        IsNull(Concept("route")), Const(None), InSet(Concept("route"), NG126_ROUTE_SET)
    ),
    # a dosage's dose in mg, or in units of her product times its mg per unit when its strength
    # is known (`Outer`: the resource's, read from the dosage). Written once, not once per
    # strength (stop 54): a dose in units times None is None, so an unknown strength leaves
    # the mg to decide
    "dose_as_ng126": Coalesce(
        (
            Cmp("==", _DOSE_MG, Const(float(NG126_DOSE_MG))),
            Cmp("==", Arith("*", _DOSE_UNITS, _MG_PER_UNIT_OF_DOSE), Const(float(NG126_DOSE_MG))),
        )
    ),
    "frequency_as_ng126": Cmp("==", Round2(_PER_DAY), Const(float(NG126_DOSES_PER_DAY))),
}


def _every_dosage(dosages: str, aspect: Expr) -> Expr:
    """An aspect over all the dosages at ``dosages``: False when any gives another, None when
    any does not give it (or there is none), else True. One `EveryItem` (stop 55): the aspect
    written once, where a False test and a None test over the dosages wrote it twice."""
    return EveryItem(dosages, aspect)


# Split dosages (stop 54): morning and night written as two dosages of one dose a day each (a
# dosage per day part, as order sets and GP systems write "400 mg in the morning, 400 mg at
# night") are one course of two doses a day, when they are clearly concurrent (FHIR R4
# Dosage.sequence: the same sequence, or none given on any, is taken together) and each is at
# one day part no other dosage names (`_WHEN_PER_DAY` of one; a part written in two dosages may
# be the same dose written twice). The doses a day are then how many dosages there are. The
# dose and route stay read per dosage (each must be NG126's 400 mg vaginal), so a split of
# another dose or route is still read as not NG126's by it. Any other list of dosages is read
# dosage by dosage (`_every_dosage`).
_SEQUENCE = Field("sequence", "num")


def _split_per_day(dosages: str) -> Expr:
    """The doses a day of dosages split by day part (one each, concurrent), else None."""
    count = ItemCount(dosages, Const(True))
    unsequenced = Not(AnyItem(dosages, _present("sequence")))
    # an item compared with each item of the same list (`AnyResourceItem`): a sequence that is
    # not the same (or not given beside one given) on any two
    same_sequence = Not(
        AnyItem(
            dosages,
            AnyResourceItem(dosages, Not(_yes(Cmp("==", _SEQUENCE, Outer(_SEQUENCE))))),
        )
    )
    one_part_each = Not(AnyItem(dosages, Not(_is(_WHEN_PER_DAY, 1.0))))
    parts = _sum(
        tuple(
            If(AnyItem(dosages, AnyItem(_WHEN, _is(_DAY_PART, p))), Const(1.0), Const(0.0))
            for p in DAY_PARTS
        )
    )
    split = And(
        (
            IsTrue(Cmp(">=", count, Const(2))),
            Or((unsequenced, same_sequence)),
            one_part_each,
            IsTrue(Cmp("==", parts, count)),
        )
    )
    return If(split, count, Const(None))


def _frequency_over(dosages: str) -> Expr:
    """The frequency aspect over the dosages at ``dosages``: of the split dosages' doses a day
    when they are split by day part, else dosage by dosage."""
    split = _split_per_day(dosages)
    return If(
        IsNull(split),
        _every_dosage(dosages, _AS_NG126["frequency_as_ng126"]),
        Cmp("==", split, Const(NG126_DOSES_PER_DAY)),
    )


def _as_ng126(dosages: str) -> tuple[tuple[str, Expr], ...]:
    """The row's three columns of its dosages (the list at ``dosages``) against NG126's."""
    return tuple(
        (
            name,
            _frequency_over(dosages)
            if name == "frequency_as_ng126"
            else _every_dosage(dosages, value),
        )
        for name, value in _AS_NG126.items()
    )


_REQUESTS = RowSpec.every(
    "requests",
    "MedicationRequest",
    _SUBJECT,
    (
        ("status", _text("status")),
        ("do_not_perform", Field("doNotPerform", "bool")),
        # a doNotPerform that is not true or false cannot say the request is a prescription
        ("dnp_unreadable", And((_present("doNotPerform"), IsNull(Field("doNotPerform", "bool"))))),
        ("authored", Day(_text("authoredOn"))),
        ("encounter", RefId(_text("encounter.reference"), "Encounter")),
        ("progesterone", _REQUEST_PROGESTERONE),
        ("progestogen", _REQUEST_PROGESTOGEN),
        ("unresolved", _UNRESOLVED),
        # a prescription (an order), or a proposal, plan or option (the audit's care given)
        ("intent", _text("intent")),
        *_as_ng126("dosageInstruction"),
    ),
)

_STATEMENT_EFFECTIVE = ("effectiveDateTime", "effectivePeriod.start", "effectivePeriod.end")
# What she says she takes (a GP record's or a medicines reconciliation's MedicationStatement, as
# UK Core and GP Connect send current medicines): its medicine is read as a request's is, its day
# is when it was taken (effective[x]), else when it was asserted.
_STATEMENTS = RowSpec.every(
    "statements",
    "MedicationStatement",
    _SUBJECT,
    (
        ("status", _text("status")),
        ("taken", _day_of(*_STATEMENT_EFFECTIVE, "dateAsserted")),
        # an effective[x] given but with no full date in it: when she took it is not known
        (
            "effective_undated",
            And(
                (
                    Or(tuple(_present(path) for path in _STATEMENT_EFFECTIVE)),
                    IsNull(_day_of(*_STATEMENT_EFFECTIVE)),
                )
            ),
        ),
        ("encounter", RefId(_text("context.reference"), "Encounter")),
        ("progesterone", _REQUEST_PROGESTERONE),
        ("progestogen", _REQUEST_PROGESTOGEN),
        ("unresolved", _UNRESOLVED),
        *_as_ng126("dosage"),
    ),
)

# --- layer 1: the care given as dispensed or administered (the audit's; not the card's) ----------


# A MedicationDispense (a hospital pharmacy's or an EPU's stock supply) or a
# MedicationAdministration (a dose given) records that a medicine was given at an encounter
# (``context``: Reference(Encounter | EpisodeOfCare) in FHIR R4) where no MedicationRequest of it
# may be in the export. Their medicine is read as a request's (medication[x]: a concept, a
# contained or exported Medication, a display). ``given``: True when the status shows it was
# supplied or given (reading.json ``care_given_dispense_status`` /
# ``care_given_administration_status``, FHIR R4 medicationdispense-status and
# medication-admin-status), False when entered in error, else None (cancelled, declined, not done,
# unknown, missing: ordered, but whether it was given is unknown). The card does not read them: a
# dispense or a dose is an event on a day, not a current course (the active MedicationRequest or
# her MedicationStatement says what she is on), and the CDS prefetch asks for neither.
def _care_event(resource: str, status_list_name: str, *dated_by: str) -> RowSpec:
    status = _text("status")
    given = If(
        _status_in(status, status_list_name),
        Const(True),
        If(_is(status, "entered-in-error"), Const(False), Const(None)),
    )
    return RowSpec(
        "care_events",
        resource,
        Const(True),
        _SUBJECT,
        (
            ("given", given),
            ("day", _day_of(*dated_by)),
            ("encounter", RefId(_text("context.reference"), "Encounter")),
            ("progesterone", _REQUEST_PROGESTERONE),
        ),
    )


CARE_EVENT_ROWS = (
    _care_event(
        "MedicationDispense", "care_given_dispense_status", "whenHandedOver", "whenPrepared"
    ),
    _care_event(
        "MedicationAdministration",
        "care_given_administration_status",
        "effectiveDateTime",
        "effectivePeriod.start",
        "effectivePeriod.end",
    ),
)

_ALLERGY_NAME = Left(
    Coalesce(
        (
            _non_empty(_text("code.text")),
            FirstItem(
                "code.coding",
                IsTrue(Cmp("!=", _text("display"), Const(""))),
                _text("display"),
            ),
        )
    ),
    ALLERGY_NAME_MAX,
)
# An allergy is never left out for its date: one dated after the assessment may only be a time
# zone away (the service's today is a UTC date), and leaving out a real allergy could choose a
# product she reacts to; listing it only steers the product choice.
_ALLERGIES = RowSpec(
    "allergies",
    "AllergyIntolerance",
    And(
        (
            Not(_status_in(_VERIFICATION, "ignored_allergy_verification")),
            Not(_REFUTED),
            Not(_ENTERED_IN_ERROR),
            Not(_status_in(_CLINICAL, "ignored_allergy_clinical")),
            Not(_CLINICAL_ENDED),
        )
    ),
    RefId(_text("patient.reference"), "Patient"),
    (("name", _ALLERGY_NAME),),
)
_PATIENTS = RowSpec.every("patients", "Patient", _text("id"), (("gender", _text("gender")),))

# How a Patient names the records merged with hers (FHIR R4 Patient.link: `other` a Patient,
# `type` replaced-by / replaces / refer / seealso): one row per link, ``patient`` the Patient's
# own id, ``other`` the id the link names (None when it is not a Patient reference). Which
# records are one woman is resolved from these rows once, in `earlypath.records.merges`.
PATIENT_LINKS = RowSpec(
    "patient_links",
    "Patient",
    # the Patient itself (no top-level `type`) gives no row; each of its links does
    Not(IsNull(_text("type"))),
    _text("id"),
    (("other", RefId(_text("other.reference"), "Patient")), ("kind", _text("type"))),
    items=ItemRows("link", ("other", "type")),
)
MERGE_LINKS = EpisodeSpec(rows=(PATIENT_LINKS,), steps=())

# Resources that name their patient by an identifier only (FHIR R4 logical reference, as UK
# Core writes the NHS number), tied to the Patient carrying it by the one rule of
# `earlypath.records.identifiers` (system and value, as written, but an NHS number's value read
# as its ten digits when it is a valid one written with spaces or hyphens: `identifier_value`;
# the literal reference wins).
# ``patient_identifiers``: one row per usable identifier of a Patient (``patient`` its id);
# ``identified_subjects``: one row per resource of a type read with a patient whose subject (or
# ``patient``) has no literal reference and has an identifier (``system``, ``value``: None when
# not usable; ``nhs_number_not_valid``: an NHS number's value that is not one, named when it
# ties nobody). The ties are resolved from these rows (`identifiers.tie`, and the audit's join).
_ID_SYSTEM, _ID_VALUE = usable_text("system"), usable_text("value")
PATIENT_IDENTIFIERS = RowSpec(
    "patient_identifiers",
    "Patient",
    # the Patient itself (no top-level `system`) gives no row; each usable identifier does
    And((Not(IsNull(_ID_SYSTEM)), Not(IsNull(_ID_VALUE)))),
    _text("id"),
    (("system", _ID_SYSTEM), ("value", identifier_value(_ID_SYSTEM, _ID_VALUE))),
    items=ItemRows("identifier", ("system", "value")),
)
# Every resource type read with a patient (the reading's and the audit's Encounter), and the
# element naming her.
SUBJECT_ELEMENTS = (
    ("Condition", "subject"),
    ("Observation", "subject"),
    ("MedicationRequest", "subject"),
    ("MedicationStatement", "subject"),
    ("MedicationDispense", "subject"),
    ("MedicationAdministration", "subject"),
    ("DiagnosticReport", "subject"),
    ("Procedure", "subject"),
    ("ImagingStudy", "subject"),
    ("AllergyIntolerance", "patient"),
    ("Encounter", "subject"),
)


def _named_by_identifier(resource: str, element: str) -> RowSpec:
    system = usable_text(f"{element}.identifier.system")
    value = usable_text(f"{element}.identifier.value")
    return RowSpec(
        "identified_subjects",
        resource,
        And(
            (
                IsNull(Field(f"{element}.reference", "any")),
                _present(f"{element}.identifier"),
            )
        ),
        None,
        (
            ("system", system),
            ("value", identifier_value(system, value)),
            ("nhs_number_not_valid", nhs_number_not_valid(system, value)),
        ),
    )


IDENTIFIED_SUBJECTS = tuple(_named_by_identifier(r, e) for r, e in SUBJECT_ELEMENTS)
IDENTIFIER_TIES = EpisodeSpec(rows=(PATIENT_IDENTIFIERS, *IDENTIFIED_SUBJECTS), steps=())

# --- layer 1: elements that are not what FHIR R4 gives -------------------------------------------

# effective[x] as a MedicationStatement and a MedicationAdministration carry it
_EFFECTIVE_ELEMENTS = (
    ("effectiveDateTime", "str"),
    ("effectivePeriod", "object"),
    ("effectivePeriod.start", "str"),
    ("effectivePeriod.end", "str"),
)

# The elements the reading reads, by the JSON they must be ("object": a JSON object). One of
# another type is read as absent (it says nothing) and the resource is reported, naming it.
_ELEMENT_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "Condition": (
        ("code", "object"),
        ("verificationStatus", "object"),
        ("clinicalStatus", "object"),
        ("onsetDateTime", "str"),
        ("onsetPeriod", "object"),
        ("recordedDate", "str"),
        ("abatementDateTime", "str"),
        ("subject", "object"),
    ),
    "Procedure": (
        ("status", "str"),
        ("code", "object"),
        ("performedDateTime", "str"),
        ("performedPeriod", "object"),
        ("subject", "object"),
    ),
    "Observation": (
        ("status", "str"),
        ("code", "object"),
        ("effectiveDateTime", "str"),
        ("effectivePeriod", "object"),
        ("effectiveInstant", "str"),
        ("issued", "str"),
        ("valueQuantity", "object"),
        ("valueQuantity.value", "num"),
        ("valueCodeableConcept", "object"),
        ("valueBoolean", "bool"),
        ("valueDateTime", "str"),
        ("subject", "object"),
    ),
    "MedicationRequest": (
        ("status", "str"),
        ("doNotPerform", "bool"),
        ("authoredOn", "str"),
        ("medicationCodeableConcept", "object"),
        ("medicationReference", "object"),
        ("subject", "object"),
    ),
    "MedicationStatement": (
        ("status", "str"),
        ("medicationCodeableConcept", "object"),
        ("medicationReference", "object"),
        *_EFFECTIVE_ELEMENTS,
        ("dateAsserted", "str"),
        ("context", "object"),
        ("subject", "object"),
    ),
    "Medication": (("id", "str"), ("code", "object")),
    "AllergyIntolerance": (
        ("code", "object"),
        ("verificationStatus", "object"),
        ("clinicalStatus", "object"),
        ("patient", "object"),
    ),
    # the care given (`CARE_EVENT_ROWS`, read by the audit): FHIR R4 MedicationDispense and
    # MedicationAdministration, the elements those rows read
    "MedicationDispense": (
        ("status", "str"),
        ("medicationCodeableConcept", "object"),
        ("medicationReference", "object"),
        ("whenHandedOver", "str"),
        ("whenPrepared", "str"),
        ("context", "object"),
        ("subject", "object"),
    ),
    "MedicationAdministration": (
        ("status", "str"),
        ("medicationCodeableConcept", "object"),
        ("medicationReference", "object"),
        *_EFFECTIVE_ELEMENTS,
        ("context", "object"),
        ("subject", "object"),
    ),
    # a scan known only by its images (`_IMAGES_ONLY_ROWS`; stop 52: a `started` not text was
    # read as undated without naming the element)
    "ImagingStudy": (
        ("status", "str"),
        ("started", "str"),
        ("description", "str"),
        ("subject", "object"),
    ),
}
# Required elements without which a resource cannot be read at all (it is then ignored).
_REQUIRED: dict[str, tuple[str, ...]] = {"Observation": ("status", "code")}
# Required elements without which a medicine's record cannot say whether it is current: read as
# a status of 'unknown' (for progesterone, or a medicine that cannot be identified, whether she
# is on progesterone is then Unknown, never "not on it").
_REQUIRED_STATUS = ("MedicationRequest", "MedicationStatement")
# The care given (a dispense, a dose): without its status (FHIR R4 requires it) it cannot say the
# medicine was given, and without its medication[x] (required too) which medicine it was; either
# leaves the care given at the encounter Unknown (`audit.fhir_flat`), never "not given".
_CARE_EVENTS = ("MedicationDispense", "MedicationAdministration")
_NO_MEDICATION = "medication[x] is missing (FHIR R4 requires it); the medicine cannot be identified"
# The elements of an Observation's `component` (`COMPONENT_ROWS`) the reading reads, by the JSON
# they must be; one of another type is named as the component's.
_COMPONENT_TYPES = (
    ("code", "object"),
    ("valueQuantity", "object"),
    ("valueQuantity.value", "num"),
    ("valueCodeableConcept", "object"),
    ("valueBoolean", "bool"),
    ("valueDateTime", "str"),
)
_JSON_NAMES = {"object": "a JSON object", "str": "text", "num": "a number", "bool": "true or false"}


def _list_wrong(path: str) -> Expr:
    """Is the element at ``path``, which must be a list, there as text, a number, true or false,
    or an object?"""
    return Or(
        (
            *(Not(IsNull(Field(path, kind))) for kind in ("str", "num", "bool")),
            Not(IsNull(Concept(path))),
        )
    )


# `component` itself must be a list (of JSON objects, each with its code: FHIR R4 requires it).
# One of another JSON type, or an item that is not an object or has no code, is read as nothing
# (`ItemRows`), so the panel is named rather than its findings silently dropped. An item is tested
# by its code, the one key every engine reads from it: a text or number item has none.
_COMPONENT_NOT_A_LIST = _list_wrong("component")
_COMPONENT_WITHOUT_CODE = AnyItem("component", IsNull(Field("code", "any")))


def _wrong_type(path: str, kind: str) -> Expr:
    """Is the element at ``path`` there, but not the JSON it must be?"""
    typed = Concept(path) if kind == "object" else Field(path, kind)  # type: ignore[arg-type]
    return And((_present(path), IsNull(typed)))


def _why_malformed(resource: str, about: str = "") -> Expr:
    """Why a resource of this type cannot be read in full (its first element that cannot be
    read), or None; each message starts with ``about`` (what the resource is, when it is not
    the one the problem names: a report's contained Observation)."""
    why: Expr = Const(None)
    if resource == "Observation":  # a panel's component, after the panel's own elements
        for path, kind in reversed(_COMPONENT_TYPES):
            message = f"{about}a component's {path} is not {_JSON_NAMES[kind]}; read as absent"
            why = If(AnyItem("component", _wrong_type(path, kind)), Const(message), why)
        without_code = (
            f"{about}a component has no code (FHIR R4 requires it) or is not a JSON object; "
            "not read"
        )
        why = If(_COMPONENT_WITHOUT_CODE, Const(without_code), why)
        not_a_list = f"{about}component is not a list; read as absent"
        why = If(_COMPONENT_NOT_A_LIST, Const(not_a_list), why)
    if resource == "Observation" and not about:  # an exported one (a contained one: its report's)
        why = If(_OBSERVATION_VERSION_HELD, Const(OBSERVATION_VERSIONS_HELD_MESSAGE), why)
    if resource == "ImagingStudy":  # stop 52: what cannot tell whether it is a pregnancy scan
        why = If(_STUDY_KIND_UNKNOWN, Const(STUDY_KIND_UNKNOWN_MESSAGE), why)
        not_a_list = "procedureCode is not a list; read as absent"
        why = If(_list_wrong("procedureCode"), Const(not_a_list), why)
        why = If(
            Not(_status_in(_STUDY_STATUS, "imaging_study_status")), Const(STUDY_STATUS_MESSAGE), why
        )
        why = If(IsNull(Field("status", "any")), Const(STUDY_STATUS_MISSING_MESSAGE), why)
    for path, kind in reversed(_ELEMENT_TYPES[resource]):
        message = f"{about}{path} is not {_JSON_NAMES[kind]}; read as absent"
        why = If(_wrong_type(path, kind), Const(message), why)
    for path in reversed(_REQUIRED.get(resource, ())):
        missing = f"{about}{path} is missing (FHIR R4 requires it); not read"
        why = If(IsNull(Field(path, "any")), Const(missing), why)
    return why


def _malformed(resource: str) -> RowSpec:
    """One row per resource of this type with an element that cannot be read: why."""
    why = _why_malformed(resource)
    if resource in _CARE_EVENTS:
        no_medication = And(
            (
                IsNull(Field("medicationCodeableConcept", "any")),
                IsNull(Field("medicationReference", "any")),
            )
        )
        why = If(no_medication, Const(_NO_MEDICATION), why)
        missing = "status is missing (FHIR R4 requires it); the care given is unknown"
        why = If(IsNull(Field("status", "any")), Const(missing), why)
    if resource in _REQUIRED_STATUS:
        missing = "status is missing (FHIR R4 requires it); read as 'unknown'"
        why = If(IsNull(Field("status", "any")), Const(missing), why)
    patient = (
        RefId(_text("patient.reference"), "Patient") if resource == "AllergyIntolerance" else None
    )
    if resource in (
        "Condition",
        "Observation",
        "Procedure",
        "MedicationRequest",
        "MedicationStatement",
        "ImagingStudy",
        *_CARE_EVENTS,
    ):
        patient = _SUBJECT
    return RowSpec("malformed", resource, Not(IsNull(why)), patient, (("why", why),))


# --- layer 1: scan reports (DiagnosticReport) -----------------------------------------------------

# An early pregnancy scan is often sent as an ultrasound report (FHIR R4 DiagnosticReport, such as
# LOINC 11525-3 "US Pelvis Fetus for pregnancy"), its findings coded only in its `conclusionCode`
# (a list of concepts), not as Observations. Each conclusion is read as an Observation of that
# code with no value is (the finding itself, seen), by the same columns, dated as one (effective[x],
# else issued), with the report's status: `reading.json` usable_report_status says which reports
# are read, unconfirmed_report_status which (partial, preliminary) never confirm an intrauterine
# pregnancy (their ectopic, miscarriage or heart findings still count: they only hold an offer
# back). The report's own code names the report, not a finding: it gives no row (a lab's hCG report
# read as a result would be a positive test). The Observations its `result` refers to are read as
# Observations when they are in the record (never again from here). A conclusion coded in no
# value set read whose words name a loss or an ectopic (a hospital's code "Incomplete
# miscarriage") is read as an Observation so coded is (`_OBSERVATION_WORDS_NAME_A_LOSS`, located
# "coded_locally"; stop 47, HAZ-20 C20.32): before, the report was only named as none of its
# findings read, ranked below the day's intrauterine finding, and the card offered. The report's
# `conclusion` (free text) is not read for words: words are matched in a concept's text and
# displays only (`InSet`), and beside coded findings it is their narrative ("no evidence of
# ectopic"); alone, the report is one of text only (`_SCAN_TEXT_ONLY`; HAZ-20 C20.32 residual).
# Versions of one scan report (stop 27). A site re-sends an amended or corrected report with the
# id of the version it replaces (FHIR R4 Resource.id; a server's history export, or a hand-built
# feed, holds both), so two DiagnosticReports may share an id. One version is read, whatever the
# order of the input: the latest by meta.lastUpdated, else issued (as written: instants of one
# offset compare as text), then, when the times cannot order them, an amended / corrected /
# appended one over any other (`reading.json` amending_report_status). Every reading of a report
# (its conclusions, its contained findings, its findings read, its being unread) reads only that
# version, so a text-only amendment replaces the coded original (the scan is then a report not
# read, never the superseded "intrauterine"), and a latest version entered in error or cancelled
# (never read, as before) leaves nothing of the report read. Versions left tied (same or no
# times, same rank) that say different things (their status, conclusion text, whether they code
# a conclusion or refer to results) are held back: none of them is read and the scan is
# `report_not_read` (not "unknown", a pregnancy of unknown location: the report exists, its
# reading is what cannot be told), named with the report (its ref carries the id, never
# patient data). A report without an id is read as before (nothing to compare it with).
# Since stop 28 (w-obs17) ids are compared per patient, not across the input: a bulk export
# merged from two systems can hold two women's reports with one id, and one woman's version
# must never replace nor hold back another's (a cross-patient effect, and a privacy defect). The
# patient is the subject as the row reads it (`_SUBJECT`: its literal reference; a report's
# contained finding, the report's), before any merge or identifier tie (those come after the
# rows, in both engines). A version whose subject resolves to no patient (none, an identifier
# only, another type) is compared with the versions of its id that have none either: nothing
# tells whose it is when the versions are ranked; not ranking it would read a superseded
# version beside its amendment (the stop-27 defect), and it reaches a woman's episode only by a
# later identifier tie or in a one-patient CDS record. Two women's subject-less versions of one
# id may still meet there (declared).
# Scan findings sent as Observations are ranked alike since stop 28 (`_OBSERVATION_VERSIONS`).
VERSIONS_HELD_MESSAGE = (
    "versions of this scan report (one id) cannot be ordered by time or status and say "
    "different things: none read, what the scan shows is unknown"
)
# what a report's version says, as far as holding tied versions back goes
_REPORT_VERSIONING = _Versions(
    "report",
    "DiagnosticReport",
    (
        ("status", Coalesce((_text("status"), Const("")))),
        ("text", Coalesce((_text("conclusion"), Const("")))),
        ("coded", AnyItem("conclusionCode", Const(True))),
        ("results", AnyItem("result", Const(True))),
    ),
    # stop 30: a report sent once (the usual record) is read without ranking its versions,
    # as an Observation is (stop 29): the same answer, as one version is its id's top
    alone=True,
)
_REPORT_VERSIONS, _REPORT_TOPS, _REPORT_CHOSEN = _REPORT_VERSIONING.specs


def _version_read(path: Callable[[str], str] = _own) -> Expr:
    """Is this version of a report the one read (or the report has no id)?"""
    return _REPORT_VERSIONING.read(path)


def _version_held(path: Callable[[str], str] = _own) -> Expr:
    """Is this version one of those ranked first of its id, held back as they disagree?"""
    return _REPORT_VERSIONING.held(path)


_VERSION_READ = _version_read()
_VERSION_HELD = _version_held()

# Results an unfinished report or panel sends as resources of their own (stop 48, HAZ-20 C20.35).
# Most reporting systems export each finding as an Observation of its own, `final` as it is
# measured, that the report's `result` (or the panel's `hasMember`) refers to, while the report
# is still partial. Such a finding is not verified either: `_OBSERVATION_ROWS` reads it as one
# kept inside the report (`_REFERRED_BY_UNFINISHED`). Table ``unfinished_results``: per patient,
# the id each result of a report of `unconfirmed_report_status` refers to, relative, absolute or
# "urn:uuid:" as any reference is read (`RefId`); the version of the report read is the one whose
# status counts. Only those reports' references are rows: a small table, joined to the
# Observation rows by id. A preliminary panel's exported members (its hasMember): stop 49,
# `_PANEL_MEMBER_REFERENCES`.
RESULT_ROWS = ItemRows("result", ("reference",))
_REFERRED_OBSERVATION = RefId(_text("reference"), "Observation")
_UNFINISHED_RESULTS = (
    RowSpec(
        "unfinished_results",
        "DiagnosticReport",
        And(
            (
                _status_in(_text("status"), "unconfirmed_report_status"),
                Not(IsNull(_REFERRED_OBSERVATION)),
                _VERSION_READ,
            )
        ),
        _SUBJECT,
        (("id", _REFERRED_OBSERVATION),),
        items=RESULT_ROWS,
    ),
)
CONCLUSION_ROWS = ItemRows("conclusionCode", (), whole="code")
# a report read: its status one read, and the version of its id read
_REPORT_USABLE = And((_status_in(_text("status"), "usable_report_status"), _VERSION_READ))
_REPORT_ROWS = _clinical(
    "DiagnosticReport",
    # as a top-level Observation: read, or coded locally with words naming a loss (stop 47)
    And((_REPORT_USABLE, Or((_OBSERVATION_READ, _OBSERVATION_WORDS_NAME_A_LOSS)))),
    {
        # a conclusion is a finding of the report: unverified as the report is (stop 47: a
        # partial report's too, whose status is no Observation's)
        **(own := _observation_columns(_status_in(_text("status"), "unconfirmed_report_status"))),
        "location": If(_OBSERVATION_READ, own["location"], Const(LOCALLY_CODED_LOCATION)),
    },
    CONCLUSION_ROWS,
)

# Findings kept inside the report: a ultrasound reporting system often sends the scan as one
# report whose findings are `contained` Observations (FHIR R4 contained resources), its `result`
# referring to each as "#id". Each one the result refers to is read as an Observation of her
# record, by the Observation's very columns: its own code, value, status and date (effective[x],
# issued), else the report's date; it is hers because the report is (a contained resource has
# no subject of its own, or its container's). Both statuses count: the Observation's must be one
# read (`usable_observation_status`) and the report's too (`usable_report_status`, so a report
# entered in error gives nothing), and an intrauterine finding confirms nothing when either is
# unconfirmed (a preliminary Observation, or a partial / preliminary report). A contained
# Observation the result does not refer to is not a finding of this report (FHIR R4 dom-3: a
# contained resource must be referred to from its container): not read, and named. A finding
# coded in no value set read whose words name a loss or an ectopic (a hospital's own code for
# "Tubal ectopic pregnancy", a no-system "Missed miscarriage" value, text only) is read as a
# top-level Observation so coded is (`_OBSERVATION_WORDS_NAME_A_LOSS`, located "coded_locally";
# stop 47, HAZ-20 C20.32): before, it was not read, and beside a finding read (or in a report
# coded locally, or one of no id) the card offered.
CONTAINED_ROWS = ItemRows("contained", (), container="_report")
# ... and a contained panel's components, each read as an exported panel's are (`COMPONENT_ROWS`:
# code and value the component's, the rest the panel's, the report still beside it)
CONTAINED_FINDINGS = ItemRows("contained", (), container="_report", then=COMPONENT_ROWS)


def _of_report(path: str) -> str:
    """The path of an element of the report around a contained finding (`CONTAINED_ROWS`)."""
    return f"{CONTAINED_ROWS.container}.{path}"


_REPORT_STATUS = _text(_of_report("status"))
_REPORT_UNCONFIRMED = _status_in(_REPORT_STATUS, "unconfirmed_report_status")


# A finding kept inside a report or a panel not known to be verified (a partial / preliminary
# report, a preliminary panel) is not verified either, whatever its own status: a reporting
# system sends each finding `final` as it is measured while the report as a whole is still
# partial. Stop 46 (HAZ-20 C20.35) read its CRL so (it never dates her, still counts for
# viability); stop 47 reads every finding so (`_observation_columns`): its bleeding, previous
# miscarriage and LMP too, as they are read on a preliminary Observation of their own.


_CONTAINED_OBSERVATION = _is(_text("resourceType"), "Observation")
# the report's result refers to it: "#" and its id
_REFERRED = AnyItem(
    _of_report("result"),
    Cmp("==", LocalId(_text("reference")), Outer(_text("id"))),
)
# its own date, else (none of its date elements there) the report's: DiagnosticReport has the
# same effective[x] (no effectiveInstant) and issued
_CONTAINED_DAY = _day_of(*_OBSERVATION_DATES, *(_of_report(p) for p in _OBSERVATION_DATES))
_CONTAINED_FINDING_ROWS = _clinical(
    "DiagnosticReport",
    And(
        (
            _CONTAINED_OBSERVATION,
            _status_in(_REPORT_STATUS, "usable_report_status"),
            _version_read(_of_report),
            _USABLE_OBSERVATION,
            # as a top-level one: read, or coded locally with words naming a loss (stop 47)
            Or((_OBSERVATION_READ, _OBSERVATION_WORDS_NAME_A_LOSS)),
            _yes(_REFERRED),
        )
    ),
    {
        **(own := _observation_columns(Or((_UNCONFIRMED_OBSERVATION, _REPORT_UNCONFIRMED)))),
        "day": _CONTAINED_DAY,
        "location": If(_OBSERVATION_READ, own["location"], Const(LOCALLY_CODED_LOCATION)),
    },
    CONTAINED_FINDINGS,
    patient=RefId(_text(_of_report("subject.reference")), "Patient"),
)

# Findings kept inside a panel Observation (stop 43, issue 12): an ultrasound panel may send its
# findings as `contained` Observations its `hasMember` refers to as "#id" (FHIR R4: hasMember
# refers to Observations; contained resources are referred to from their container). Each one a
# hasMember refers to is read as a report's contained finding is (`_CONTAINED_FINDING_ROWS`): by
# the Observation's own columns, dated by its own date else the panel's, hers because the panel
# is; both statuses must be read (`usable_observation_status`), an intrauterine finding confirms
# nothing when either is unconfirmed. Before, they were not read at all: an ectopic pregnancy so
# sent today gave an offer. A panel sent again (one id, FHIR R4 Resource.id, as its own rows'
# versions are: `_OBSERVATION_VERSIONS`) gives the members of the version of it read only (stop
# 45, HAZ-01 C01.41): a later version entered in error withdraws its earlier final one's members
# (they confirmed the location, and the card offered), an amended one replaces them (its member
# ectopic where the first's was intrauterine: ectopic). Asked of the chosen table only
# (`_Versions.read_of_chosen`): a join of the versions table from an item row would make every
# Observation's versions ranked in the audit (`own_rows.safe_repeated`, stop 39). A member
# coded in no value set read whose words name a loss or an ectopic is read as a top-level
# Observation so coded is (`_OBSERVATION_WORDS_NAME_A_LOSS`, located "coded_locally"; stop 46,
# HAZ-20 C20.32): before, it was not read, and the card offered.
PANEL_MEMBER_ROWS = ItemRows("contained", (), container="_panel", then=COMPONENT_ROWS)


def _of_panel(path: str) -> str:
    """The path of an element of the panel around a contained member (`PANEL_MEMBER_ROWS`)."""
    return f"{PANEL_MEMBER_ROWS.container}.{path}"


_PANEL_STATUS = _text(_of_panel("status"))
_PANEL_UNCONFIRMED = _status_in(_PANEL_STATUS, "unconfirmed_observation_status")
_PANEL_MEMBER = AnyItem(
    _of_panel("hasMember"),
    Cmp("==", LocalId(_text("reference")), Outer(_text("id"))),
)
_PANEL_MEMBER_ROWS = _clinical(
    "Observation",
    And(
        (
            _CONTAINED_OBSERVATION,
            _status_in(_PANEL_STATUS, "usable_observation_status"),
            _OBSERVATION_VERSIONING.read_of_chosen(_of_panel),
            _USABLE_OBSERVATION,
            # as a top-level one: read, or coded locally with words naming a loss (stop 46)
            Or((_OBSERVATION_READ, _OBSERVATION_WORDS_NAME_A_LOSS)),
            _yes(_PANEL_MEMBER),
        )
    ),
    {
        **(own := _observation_columns(Or((_UNCONFIRMED_OBSERVATION, _PANEL_UNCONFIRMED)))),
        "day": _day_of(*_OBSERVATION_DATES, *(_of_panel(p) for p in _OBSERVATION_DATES)),
        "location": If(_OBSERVATION_READ, own["location"], Const(LOCALLY_CODED_LOCATION)),
    },
    PANEL_MEMBER_ROWS,
    patient=RefId(_text(_of_panel("subject.reference")), "Patient"),
)

# What of a report's contained Observations is not read is named, so the card and the audit say
# so rather than nothing: one its result does not refer to, and one with an element of the wrong
# JSON type (read as absent, named as an exported Observation is: `_why_malformed`). A contained
# panel's components are read (`CONTAINED_FINDINGS`, stop 23).
REPORT_UNREFERRED_MESSAGE = (
    "holds a scan finding inside it that its result does not refer to (a contained Observation "
    "not among its results): not read, what it shows is unknown"
)
CONTAINED_MALFORMED_PREFIX = (
    "holds a scan finding inside it (a contained Observation) not read in full: "
)
# a contained Observation the reading would read (its code or value in a set an Observation is
# read for) or a panel (its components may be)
_CONTAINED_WORTH_READING = Or(
    (
        _in_any("code", _OBSERVATION_CODE_SETS),
        _in_any(_VCC, _OBSERVATION_VALUE_SETS),
        _present("component"),
    )
)
_CONTAINED_UNREAD = If(
    _yes(
        And(
            (
                _CONTAINED_OBSERVATION,
                _status_in(_REPORT_STATUS, "usable_report_status"),
                _CONTAINED_WORTH_READING,
                Not(_yes(_REFERRED)),
            )
        )
    ),
    Const(REPORT_UNREFERRED_MESSAGE),
    If(
        _CONTAINED_OBSERVATION,
        _why_malformed("Observation", CONTAINED_MALFORMED_PREFIX),
        Const(None),
    ),
)
_CONTAINED_MALFORMED = RowSpec(
    "malformed",
    "DiagnosticReport",
    Not(IsNull(_CONTAINED_UNREAD)),
    RefId(_text(_of_report("subject.reference")), "Patient"),
    (("why", _CONTAINED_UNREAD),),
    items=CONTAINED_ROWS,
)

# A scan report that gives no coded finding at all (no conclusionCode, no result) but tells its
# findings in text (its `conclusion`, or a `presentedForm`: the report as a PDF or text) cannot
# be read, but it says a scan was done: named, never silence; dated after every location read in
# this pregnancy, it holds the decision back (`_UNREAD_REPORT_ROWS`, stop 24).
SCAN_TEXT_ONLY_MESSAGE = (
    "scan report with findings only as free text: not read, what it shows is unknown"
)
_SCAN_TEXT_ONLY = And(
    (
        _REPORT_USABLE,
        _in("code", "scan_report"),
        Or((_present("conclusion"), _present("presentedForm"))),
        IsNull(Field("conclusionCode", "any")),
        Not(AnyItem("result", Const(True))),
    )
)
_REPORT_ELEMENT_TYPES = (
    ("status", "str"),
    ("effectiveDateTime", "str"),
    ("effectivePeriod", "object"),
    ("issued", "str"),
    ("subject", "object"),
)
_CONCLUSION_NOT_A_LIST = Or(
    (
        *(Not(IsNull(Field("conclusionCode", kind))) for kind in ("str", "num", "bool")),
        Not(IsNull(Concept("conclusionCode"))),
    )
)


# A scan report whose coded findings (its conclusionCode, the contained Observations its result
# refers to, their components) are none of them in a value set the reading reads (a finding
# coded only locally, or a measurement earlypath does not use) gives no finding: named, so the
# card and the audit say a scan was done that was not understood; as a text-only report, it
# holds the decision back when dated after every location read (`_UNREAD_REPORT_ROWS`). Not
# named when its result refers to a resource it does not hold (an Observation of the record,
# read on its own) or it has no id (its findings cannot be told from another report's).
SCAN_NOTHING_READ_MESSAGE = (
    "scan report read, none of its findings is one earlypath reads: what it shows is unknown"
)
# table ``report_reads``: one row per finding of a report in a value set the reading reads,
# ``id`` the report's (the rows of `_REPORT_ROWS` and `_CONTAINED_FINDING_ROWS` but for status)
_REPORT_READS = (
    RowSpec(
        "report_reads",
        "DiagnosticReport",
        And((_OBSERVATION_READ, _VERSION_READ)),
        _SUBJECT,
        (("id", _text("id")),),
        items=CONCLUSION_ROWS,
    ),
    RowSpec(
        "report_reads",
        "DiagnosticReport",
        And(
            (_CONTAINED_OBSERVATION, _OBSERVATION_READ, _yes(_REFERRED), _version_read(_of_report))
        ),
        RefId(_text(_of_report("subject.reference")), "Patient"),
        (("id", _text(_of_report("id"))),),
        items=CONTAINED_FINDINGS,
    ),
)
_HELD_RESULT = Not(IsNull(LocalId(_text("reference"))))
_SCAN_NOTHING_READ = And(
    (
        _REPORT_USABLE,
        _in("code", "scan_report"),
        Not(IsNull(_text("id"))),
        Or((AnyItem("conclusionCode", Const(True)), AnyItem("result", _HELD_RESULT))),
        Not(AnyItem("result", Not(_HELD_RESULT))),
        IsNull(Joined("report_reads", _text("id"), "id", patient=_SUBJECT)),
    )
)


def _report_unread() -> Expr:
    """Why a report cannot be read in full, or None: an element that is not the JSON FHIR gives
    it (read as absent), else a scan report whose findings are text only, or none of them one
    the reading reads."""
    why: Expr = If(_SCAN_NOTHING_READ, Const(SCAN_NOTHING_READ_MESSAGE), Const(None))
    why = If(_VERSION_HELD, Const(VERSIONS_HELD_MESSAGE), why)
    why = If(_SCAN_TEXT_ONLY, Const(SCAN_TEXT_ONLY_MESSAGE), why)
    why = If(_CONCLUSION_NOT_A_LIST, Const("conclusionCode is not a list; read as absent"), why)
    for path, kind in reversed(_REPORT_ELEMENT_TYPES):
        why = If(
            _wrong_type(path, kind),
            Const(f"{path} is not {_JSON_NAMES[kind]}; read as absent"),
            why,
        )
    return why


_REPORT_UNREAD = _report_unread()
_REPORT_MALFORMED = RowSpec(
    "malformed",
    "DiagnosticReport",
    Not(IsNull(_REPORT_UNREAD)),
    _SUBJECT,
    (("why", _REPORT_UNREAD),),
)

# A scan report that could not be read (findings only as text, or none of its coded findings one
# the reading reads) still says that a scan was done on its day and that what it showed is
# unknown (stop 24: it was only named, so an intrauterine scan of two weeks before stood, and a
# report of today that may say "no fetal heart: missed miscarriage" changed nothing: "offer").
# It gives a clinical row of its day whose location is "unread": the day is a scan day, and the
# unread report ranks below every location read that day (`_LOCATION_RANK`: a finding read
# beside it stands) but ends the location carried from an earlier day (the episode's location
# "report_not_read", not "unknown", which is a pregnancy of unknown location: stop 25; the
# heartbeat unknown unless read that day), except an ectopic pregnancy seen before it, which an
# unread report never hides. Undated (or dated after the assessment, or unplaceable) it cannot
# be placed and is ignored, as an undated scan finding is, and named.
UNREAD_LOCATION = "unread"
_UNREAD_REPORT_ROWS = _clinical(
    "DiagnosticReport",
    # ... and so does a scan report whose versions are held back (they disagree, unordered)
    Or((_SCAN_TEXT_ONLY, _SCAN_NOTHING_READ, And((_VERSION_HELD, _in("code", "scan_report"))))),
    {"observed": Const(True), "day": _OBSERVATION_DAY, "location": Const(UNREAD_LOCATION)},
)

# A scan known only by its images (stop 51, HAZ-20 C20.50; issue 12): a PACS sends an ImagingStudy
# (FHIR R4) when the images are taken, often hours or days before the report. It holds no result,
# so it never confirms anything, but it says a scan was done on its day (`started`) whose findings
# are unknown: read as a report not read is (`_UNREAD_REPORT_ROWS`), a row of its day located
# "unread", so a later scan's images end the intrauterine pregnancy carried from an earlier scan
# (it may show a loss), a location read that day (its report) stands, and an ectopic pregnancy
# seen before it still stands. Before, no engine read the type: the card offered on last week's
# scan. Only an obstetric scan: its procedureCode in `scan_report` (a study's modality "US" alone
# would hold an offer back for a renal ultrasound); only a status saying the images were, or may
# have been, taken (`reading.json` imaging_study_taken_status: available, unknown). It only ever
# holds a decision back ("yes"-only): a study absent, or of another status, changes nothing.
# Undated (no `started`, or not text) it is ignored and named, as an undated report is.
IMAGES_ONLY_MESSAGE = (
    " with no report: what they show is unknown, so where the pregnancy is and whether a fetal "
    "heartbeat was seen are taken as unknown from that day (an ectopic pregnancy seen before it "
    "still stands); read the report before deciding"
)
_IMAGING_STUDY_DAY = _day_of("started")


def _study_words(value_set: str) -> Expr:
    """Do the study's own words hold one of this set's words: its procedureCode's text or a
    coding's display, its description, a series' description or body site (a Coding in R4)?"""
    return Or(
        (
            AnyItem("procedureCode", InSet(Concept(""), value_set)),
            TextInSet(_text("description"), value_set),
            AnyItem(
                "series",
                Or(
                    (
                        TextInSet(_text("description"), value_set),
                        TextInSet(_text("bodySite.display"), value_set),
                    )
                ),
            ),
        )
    )


# Stop 52 (HAZ-20 C20.53): real PACS and RIS exports seldom put LOINC 11525-3 or SNOMED CT
# 268445003 on the study. A RIS codes it locally (a NICIP-style code, "US Pregnancy <14 weeks",
# "USS viability") or sends the obstetric fact only in the description, a series' description or
# body site, or the reason; read by code only, such a study of today after last week's confirmed
# scan changed nothing and the offer stood. Its words are read as a Condition's coded locally are
# (stop 44), never as a finding: a study named a pregnancy scan in words (`obstetric_imaging`)
# is a scan not read, unless its own words name another organ or say it is not of a pregnancy
# (`imaging_not_obstetric`: a renal ultrasound for loin pain in pregnancy). The reason is read
# for the pregnancy only, never for another organ: a reason says why, not what was scanned.
_STUDY_OF_ANOTHER_ORGAN = _study_words("imaging_not_obstetric")
# Stop 52 (w-study52, HAZ-20 C20.60): a study may name what was done only through the Procedure
# it refers to (`procedureReference`: a RIS that records the examination as a Procedure and the
# PACS study as its images). Table ``scan_procedures``: per patient, the id of each Procedure
# whose code is an obstetric scan (`scan_report`), or names one in words and no other organ, as
# a study's own code and words are read. Whatever its status: it only says what the study was,
# and a study read as a pregnancy scan only ever holds a decision back. The Procedure gives no
# row of its own here (a Procedure coded so is not read as a scan: its report or findings are).
_SCAN_PROCEDURE_CODE = Or(
    (
        _yes(InSet(Concept("code"), "scan_report", words=False)),
        And(
            (
                _yes(_in("code", "obstetric_imaging")),
                Not(_yes(_in("code", "imaging_not_obstetric"))),
            )
        ),
    )
)
# The statuses of a scan Procedure read as a scan done (`_LONE_PROCEDURE_ROWS`)
_LONE_PROCEDURE_STATUSES = ("completed", "unknown")
_LONE_PROCEDURE = IsTrue(OneOf(_PROCEDURE_STATUS, _LONE_PROCEDURE_STATUSES))
# Its ``day``: the day of the row the Procedure gives of its own (`_LONE_PROCEDURE_ROWS`), None
# when it gives none (another status, or undated).
_SCAN_PROCEDURES = RowSpec(
    "scan_procedures",
    "Procedure",
    _SCAN_PROCEDURE_CODE,
    _SUBJECT,
    (("id", _text("id")), ("day", If(_LONE_PROCEDURE, _PROCEDURE_DAY, Const(None)))),
)
_STUDY_PROCEDURE = RefId(_text("procedureReference.reference"), "Procedure")
_STUDY_OF_A_SCAN_PROCEDURE = Not(
    IsNull(Joined("scan_procedures", _STUDY_PROCEDURE, "id", patient=_SUBJECT))
)
_OBSTETRIC_STUDY = Or(
    (
        AnyItem("procedureCode", InSet(Concept(""), "scan_report", words=False)),
        And(
            (
                Or(
                    (
                        _study_words("obstetric_imaging"),
                        AnyItem("reasonCode", InSet(Concept(""), "obstetric_imaging")),
                        _STUDY_OF_A_SCAN_PROCEDURE,
                    )
                ),
                Not(_STUDY_OF_ANOTHER_ORGAN),
            )
        ),
    )
)
# A status FHIR R4 does not define (a RIS's own "final", "COMPLETED"), or none (R4 requires it),
# is read as 'unknown': the images may have been taken (stop 52: such a study was not read at
# all, silently); it is named (`_why_malformed`).
_STUDY_STATUS = _text("status")
_IMAGES_TAKEN = Or(
    (
        _status_in(_STUDY_STATUS, "imaging_study_taken_status"),
        Not(_status_in(_STUDY_STATUS, "imaging_study_status")),
    )
)
# An ultrasound, or a study that names no modality: one whose kind neither its code nor its
# words tell is named (`_why_malformed`), not read
_MAY_BE_ULTRASOUND = Or(
    (
        AnyItem("modality", _is(_text("code"), "US")),
        AnyItem("series", _is(_text("modality.code"), "US")),
        And(
            (
                Not(AnyItem("modality", _present("code"))),
                Not(AnyItem("series", _present("modality.code"))),
            )
        ),
    )
)
_STUDY_KIND_UNKNOWN = And(
    (_IMAGES_TAKEN, _MAY_BE_ULTRASOUND, Not(_OBSTETRIC_STUDY), Not(_STUDY_OF_ANOTHER_ORGAN))
)
STUDY_KIND_UNKNOWN_MESSAGE = (
    "procedureCode is no code earlypath reads (no coding, or a local code) and no word of the "
    "study names what was scanned: whether it is an early pregnancy scan cannot be told, so it "
    "is not read as one; if it is, read its report before deciding"
)
STUDY_STATUS_MESSAGE = (
    "status is not one of FHIR R4's ImagingStudy statuses (registered, available, cancelled, "
    "entered-in-error, unknown); read as 'unknown': the images may have been taken"
)
STUDY_STATUS_MISSING_MESSAGE = (
    "status is missing (FHIR R4 requires it); read as 'unknown': the images may have been taken"
)
# A report that refers to the study (DiagnosticReport.imagingStudy; stop 52, HAZ-20 C20.54) is
# what was read of it: the study then says nothing more. By day alone, a report dated before its
# own study (the study's `started` is the ultrasound machine's clock, DICOM StudyDate/Time, often
# not kept in time; the report's the RIS's: 00:20 and 23:50 the evening before) left the study
# holding the report back for ever. Table
# ``reported_studies``: per patient, the id of each study a report read (its status one read,
# the version of its id read) refers to, relative, absolute or "urn:uuid:" as `RefId` reads any
# reference. A report not read (registered, cancelled, entered in error) leaves its study
# standing; a study no report names is a scan not read from its day, as before.
REPORTED_STUDY_ROWS = ItemRows("imagingStudy", ("reference",))
_REPORTED_STUDY = RefId(_text("reference"), "ImagingStudy")
_REPORTED_STUDIES = RowSpec(
    "reported_studies",
    "DiagnosticReport",
    And((_REPORT_USABLE, Not(IsNull(_REPORTED_STUDY)))),
    _SUBJECT,
    (("id", _REPORTED_STUDY),),
    items=REPORTED_STUDY_ROWS,
)
_STUDY_REPORTED = Not(IsNull(Joined("reported_studies", _text("id"), "id", patient=_SUBJECT)))
# Stop 54 (HAZ-20 C20.74): a study whose Procedure (`procedureReference`) gives a row of the
# same day (`_LONE_PROCEDURE_ROWS`) gives none of its own: the two rows were alike (that day,
# located "unread") but for the record named, so the scan was named twice to the clinician, as
# images with no report and as a Procedure with no result. The Procedure names it. A study of
# another day keeps its row (and both are named: a Procedure dated after the assessment is not
# placed, so the study's row must stand for the day it was taken).
_NAMED_BY_ITS_PROCEDURE = _is(
    Cmp(
        "==",
        Joined("scan_procedures", _STUDY_PROCEDURE, "day", patient=_SUBJECT),
        _IMAGING_STUDY_DAY,
    ),
    True,
)
_IMAGES_ONLY_ROWS = _clinical(
    "ImagingStudy",
    And((_IMAGES_TAKEN, _OBSTETRIC_STUDY, Not(_STUDY_REPORTED), Not(_NAMED_BY_ITS_PROCEDURE))),
    {"observed": Const(True), "day": _IMAGING_STUDY_DAY, "location": Const(UNREAD_LOCATION)},
)

# A scan known only by its Procedure (stop 53, HAZ-20 C20.62; issue 12): a completed Procedure
# coded as an obstetric scan (`_SCAN_PROCEDURE_CODE`: `scan_report`, or a pregnancy scan in words
# naming no other organ) says a scan was done on its day (performed[x]); its result is read only
# from a report, a finding or a study. Before, no row was read from it: with no result in the
# record (not yet sent, or sent to another system) the card and the audits offered on last
# week's scan. It is read as a study with no report is (`_IMAGES_ONLY_ROWS`): a row of its day
# located "unread", so its result read that day or later stands (`_LOCATION_RANK`: a finding, a
# report or a study of its day ranks above it) and a scan read after it is the latest; only a
# Procedure after every scan read holds the offer back, naming the result to read. An earlier
# one, or one of another organ, changes nothing. Only `completed` (and `unknown`, below): a
# planned, begun, stopped or not-done Procedure says no scan was finished (as
# `_PROCEDURE_ROUTE_ROWS`). Undated, it is ignored and named. Its result is not sought through
# references (its `report`, a study's `procedureReference`, a finding's `partOf`): a result is
# read by its own day, and a reference to one not in the record is no result (Left in CHANGELOG stop 53: a result dated before its
# own Procedure).
LONE_PROCEDURE_MESSAGE = (
    " with no result read on or after its day: what it showed is unknown, so where the "
    "pregnancy is and whether a fetal heartbeat was seen are taken as unknown from that day (an "
    "ectopic pregnancy seen before it still stands); read its report before deciding"
)
# Stop 54 (HAZ-20 C20.72): a status of `unknown` too. FHIR R4 event-status: "the authoring
# system does not know which of the status values currently applies": the scan may have been
# done, so it is read as a completed one is (holding back, the safe side for progesterone: a
# Procedure not read at all let last week's scan stand, an offer), as a study of status unknown
# is read as taken (`imaging_study_taken_status`): `_LONE_PROCEDURE`.
_LONE_PROCEDURE_ROWS = _clinical(
    "Procedure",
    And((_LONE_PROCEDURE, _SCAN_PROCEDURE_CODE)),
    {"observed": Const(True), "day": _PROCEDURE_DAY, "location": Const(UNREAD_LOCATION)},
)

# The scan's route as its report's code names it (stop 44, w-route44; HAZ-20 C20.33): many
# systems send the scan as a DiagnosticReport coded for the procedure ("US Pelvis transvaginal")
# whose findings carry no `Observation.method`. Such a report (its status one read, the version
# of its id read) gives a row of its day with that route and nothing else: beside the day's
# findings, `_route_is` reads it as a finding's method, so a report and a finding that disagree
# give no route that day, named (`ROUTE_CONFLICT_MESSAGE`). Only a code of a route's value set
# counts, never the report's text. No public transabdominal report code was found: such a
# report gives no route (Unknown, as before).
_REPORT_ROUTE_ROWS = _clinical(
    "DiagnosticReport",
    And((_REPORT_USABLE, _yes(_in("code", "transvaginal_scan")))),
    {"observed": Const(True), "day": _OBSERVATION_DAY, "scan_route": Const("transvaginal")},
)

# ... and as its Procedure's code names it (stop 45, w-route45; HAZ-20 C20.34): a system that
# records the scan as a Procedure (US Core's CPT 76817 "Ultrasound, pregnant uterus ...,
# transvaginal"; the imaging code LOINC 24677-7) beside findings that carry no method. Only a
# completed Procedure counts: a planned one (`preparation`), one under way, stopped, not done or
# entered in error says no scan of that route was finished. Its row is the report's: its day
# (performed[x]) and the route, read beside the day's findings, so a disagreement is named. No
# SNOMED CT procedure naming the route could be checked in a public list, nor a transabdominal
# code: such a Procedure gives no route (Unknown, as before).
_PROCEDURE_ROUTE_ROWS = _clinical(
    "Procedure",
    And(
        (
            _is(_PROCEDURE_STATUS, "completed"),
            _yes(_in("code", "transvaginal_scan")),
        )
    ),
    {"observed": Const(True), "day": _PROCEDURE_DAY, "scan_route": Const("transvaginal")},
)

# ... and so does a scan finding sent as an Observation whose versions are held back (stop 28):
# a held version with a location read (intrauterine, ectopic, uncertain) makes its day a scan
# not read, so neither its version nor an earlier location stands for it. A panel's location is
# in a component (stop 29: a held panel gave no row at all, so an intrauterine scan of a week
# before stood, "offer", though a version held back said "ectopic"). Stop 49: so does a held
# version read by a value set with no location read whose words name a loss (`_HELD_LOSS_ROWS`).
_HELD_VERSION_LOCATED = Or((Not(IsNull(_OBSERVATION_LOCATION)), _COMPONENT_LOCATION))
# Stop 50 (HAZ-20 C20.48, the residual of C20.38): a held panel version may name the loss only in
# a component's words ("Tubal ectopic pregnancy" as a component's local code or its value's
# text); a panel's components are read as rows of the version read only, so its words are
# tested here, on the held version itself, as its own code's and value's are.
_HELD_VERSION_NAMES_A_LOSS = Or(
    (_OBSERVATION_WORDS_NAME_A_LOSS, AnyItem("component", _names_a_loss("code", _VCC)))
)
_UNREAD_FINDING_ROWS = _clinical(
    "Observation",
    And(
        (
            _OBSERVATION_VERSION_HELD,
            Or((_HELD_VERSION_LOCATED, And((_OBSERVATION_READ, _HELD_VERSION_NAMES_A_LOSS)))),
        )
    ),
    {"observed": Const(True), "day": _OBSERVATION_DAY, "location": Const(UNREAD_LOCATION)},
)
# A held version whose words name a loss or an ectopic pregnancy (its code's or value's text or a
# coding's display, `_names_a_loss`; stop 49, HAZ-20 C20.38, the residual of C20.32): its tied
# twin may say "Intrauterine pregnancy", so with none read the card offered. Read by a value set
# (a standard code, no location read), it is a scan finding not read, above ("unread"); coded in
# none, it is located "coded_locally" (the record named as one so coded, held back in this
# pregnancy as a local loss read today is, `_LOCALLY_CODED_ROWS`). The verdict is each version's
# own, with no join: every held version gives its row or none, so "a version of the tie names a
# loss" is the union of their rows. Two specs, each location a constant: the conditions keep the
# pairs' test (`_OBSERVATION_VERSION_HELD`) a top-level part, so the audit reads the repeated
# pairs' Observations only (`ibis_compile._repeated_test`; stop 48 joined the tops inside the Or
# and lost it), and a location column reading the value sets would be a stage of its own (a view
# between the pairs' table and the clinical rows, `ibis_compile._shared_stages`).
_HELD_LOSS_ROWS = _clinical(
    "Observation",
    And((_OBSERVATION_VERSION_HELD, Not(_OBSERVATION_READ), _HELD_VERSION_NAMES_A_LOSS)),
    {"observed": Const(True), "day": _OBSERVATION_DAY, "location": Const(LOCALLY_CODED_LOCATION)},
)


# A Condition or Procedure coded in no value set the reading reads (a GP system's local code, EMIS
# "EMISNQ..." or an Egton code; a hospital's own system; a coding with no system; text only, which
# GP Connect allows when no code fits) whose code's text or a coding's display names a pregnancy
# loss or an ectopic pregnancy (`locally_coded_loss`, and none of `locally_coded_not_now`:
# "threatened", "history", ...) was read as no record, so an ectopic pregnancy or a miscarriage of
# today so coded left the card offering (stop 44, issue 12, HAZ-20 C20.32). Its words are never
# read as the fact (a guess from free text must not open or close an offer): it gives a clinical
# row of its day whose location is "coded_locally", ranked above an intrauterine finding and
# below every other location (`_LOCATION_RANK`): in this pregnancy, on or after the day of an
# intrauterine scan, the location is `report_not_read` (needs information, the record named),
# while an ectopic pregnancy or an uncertain finding read that day, or an ectopic seen before,
# still stands. Placed before this pregnancy it says nothing (a GP record holds many old
# entries); undated, it is named. An Observation so coded is a row of `_OBSERVATION_ROWS` itself
# (stop 45, `_OBSERVATION_WORDS_NAME_A_LOSS`).
LOCALLY_CODED_MESSAGE = (
    " is coded in no value set earlypath reads (a local code, or text only), but its text names a "
    "pregnancy loss or an ectopic pregnancy: not read, so where the pregnancy is is taken as "
    "unknown from that day; read the record before deciding"
)
# ... one that cannot be placed (undated, dated after the assessment, or no dating): then
# `PLACE_MESSAGES`
LOCALLY_CODED_UNPLACED_MESSAGE = (
    "record coded in no value set earlypath reads (a local code, or text only) whose text names a "
    "pregnancy loss or an ectopic pregnancy "
)


_LOCALLY_CODED_COLUMNS: dict[str, Expr] = {
    "observed": Const(True),
    "location": Const(LOCALLY_CODED_LOCATION),
}
_LOCALLY_CODED_ROWS = (
    _clinical(
        "Condition",
        And((Not(_CONDITION_IGNORED), Not(_CONDITION_READ), _names_a_loss("code"))),
        {**_LOCALLY_CODED_COLUMNS, "day": _CONDITION_DAY},
    ),
    _clinical(
        "Procedure",
        And(
            (
                _PROCEDURE_PERFORMED,
                Not(
                    Or(
                        (
                            _ECTOPIC,
                            _EVENT,
                            _TREATED_ECTOPIC_BY_REASON,
                            _TREATED_MISCARRIAGE_BY_REASON,
                        )
                    )
                ),
                _names_a_loss("code"),
            )
        ),
        {**_LOCALLY_CODED_COLUMNS, "day": _PROCEDURE_DAY},
    ),
)


# --- layer 2: the timeline ------------------------------------------------------------------------

_ASSESSED_ON = Ctx("assessed_on")
_DAY = Col("day")
# The latest dated record, up to the day, that she is not pregnant (`earlypath.fhir.pregnancy`):
# what is dated before it is of a pregnancy that is over. On the same day the order is unknown
# and nothing is ended; an undated row is never before it.
_NOT_PREGNANT_ON = Ctx("not_pregnant_on")
_BEFORE_NOT_PREGNANT = _is(Cmp("<", _DAY, _NOT_PREGNANT_ON), True)


def _within_window(day: Expr) -> Expr:
    """On or before the assessment day and not more than the window before it."""
    return And(
        (
            Cmp("<=", day, _ASSESSED_ON),
            Cmp("<=", DaysBetween(day, _ASSESSED_ON), Const(WINDOW_DAYS)),
        )
    )


def place(day: Expr) -> Expr:
    """Where a day falls: "this" pregnancy, "before" it, or "undated", "future" (after the
    assessment), "unplaced" (no start, and within the window)."""
    return If(
        IsNull(day),
        Const("undated"),
        If(
            Cmp(">", day, _ASSESSED_ON),
            Const("future"),
            If(
                Not(IsNull(Ctx("start"))),
                If(Cmp(">=", day, Ctx("start")), Const("this"), Const("before")),
                If(Cmp("<", day, Ctx("window_start")), Const("before"), Const("unplaced")),
            ),
        ),
    )


_PLACE = place(_DAY)
_THIS = _is(_PLACE, "this")
# A bleeding Condition abated with no clinicalStatus (stop 40) or with one that says it is not
# over (`active`: stop 41; FHIR R4 con-4 forbids both), its abatement not dated after the
# assessment day (undated, or an age or words, it may have ended by then): whether she is
# bleeding now is unknown, as for one recorded as resolved, never True on it alone (issue 12:
# it was read as current bleeding). One abated after the assessment day is current.
_BLEEDING_MAY_HAVE_ENDED = And(
    (
        Not(IsNull(Col("bleeding_abated"))),
        Not(_is(Cmp(">", Col("abated"), _ASSESSED_ON), True)),
    )
)
# Whether she is bleeding now, by one bleeding record (stop 43, issue 12). A record that says the
# answer is not known (a Condition not confirmed, recorded as resolved, or that may have ended by
# the assessment day) is a record of its own in the latest, not one skipped: skipped, an older
# "present" stood (and opened the offer) or an older "absent" did. It is dated by its abatement
# when that is later than its onset (the newest thing it says). An Observation whose value is
# neither present nor absent is not such a record: it says nothing that can be read, is reported
# as ignored, and an older answer is still right.
_BLEEDING_NOT_KNOWN = Or(
    (
        # a Condition, or an Observation of "present" not known to be verified (`unconfirmed`)
        And((IsNull(Col("bleeding")), Or((Not(_yes(Col("observed"))), _yes(Col("unconfirmed")))))),
        _BLEEDING_MAY_HAVE_ENDED,
    )
)
_BLEEDING_ANSWERED = Not(IsNull(Col("bleeding")))
_BLEEDING_NOW = If(_BLEEDING_MAY_HAVE_ENDED, Const(None), Col("bleeding"))
_BLEEDING_SAID_ON = If(
    And((_BLEEDING_NOT_KNOWN, IsTrue(Cmp(">", Col("abated"), _DAY)))), Col("abated"), _DAY
)
_NOT_PLACED = IsTrue(OneOf(_PLACE, ("undated", "future", "unplaced")))
_PLACE_MESSAGE = Lookup(_PLACE, tuple(PLACE_MESSAGES.items()))


def _placed_problem(where: Expr, what: str) -> RowProblem:
    """A finding that cannot be placed in this pregnancy (one before it says nothing now)."""
    return RowProblem("clinical", And((where, _NOT_PLACED)), Message.of(f"{what} ", _PLACE_MESSAGE))


# The LMP: the latest recorded of those in the window; "recorded" is the Observation's day, so
# one recorded after the assessment was not known then, and one with no date ranks as if
# recorded on the LMP itself.
_LMP_VALUE = Col("lmp_value")
_LMP_RECORDED_LATE = IsTrue(Cmp(">", _DAY, _ASSESSED_ON))
_LMP_KNOWN = And(
    (Not(IsNull(_LMP_VALUE)), Not(_LMP_RECORDED_LATE), _yes(_within_window(_LMP_VALUE)))
)
# an LMP recorded before a later "not pregnant" is of the pregnancy that ended: it dates nothing
_LMP_ENDED = And((_LMP_KNOWN, _BEFORE_NOT_PREGNANT))
_LMP_COUNTS = And((_LMP_KNOWN, Not(_BEFORE_NOT_PREGNANT)))
# an LMP on a result not known to be verified (preliminary, unknown: `unconfirmed`; stop 44)
_LMP_UNVERIFIED = And((_LMP_COUNTS, _yes(Col("unconfirmed"))))
# the LMP a row gives the `lmp` step: none from an unverified one (it is the latest, of no value)
_LMP_DATES = If(_yes(Col("unconfirmed")), Const(None), _LMP_VALUE)

# An estimated date of delivery (stop 41, issue 12) is not a dating source here, but it checks
# the LMP: the LMP it implies (EDD - 280 days, `edd_lmp`) and an LMP further apart than
# `edd_lmp_tolerance_days` (reading.json) cannot both be right. The EDD was set by a scan
# (which the NG126 reference says dates the pregnancy when there is one) or the record
# contradicts itself; either way that LMP does not date the pregnancy (it was: the card offered
# progesterone at 15+0 by the LMP to a woman the scan's EDD put at 16+6). Not in the window,
# recorded after the assessment or before a later "not pregnant", an EDD is of no concern.
_EDD_LMP = Col("edd_lmp")
_EDD_COUNTS = And(
    (
        Not(IsNull(_EDD_LMP)),
        Not(IsTrue(Cmp(">", _DAY, _ASSESSED_ON))),
        _yes(_within_window(_EDD_LMP)),
        Not(_BEFORE_NOT_PREGNANT),
    )
)


def _days_apart(day: Expr, other: Expr) -> Expr:
    """More than the tolerance apart (never Unknown: False when either is missing)."""
    gap = DaysBetween(day, other)
    return Or(
        (
            IsTrue(Cmp(">", gap, Const(EDD_LMP_TOLERANCE_DAYS))),
            IsTrue(Cmp("<", gap, Const(-EDD_LMP_TOLERANCE_DAYS))),
        )
    )


# an LMP against the earliest or the latest LMP the EDDs imply
_LMP_AGAINST_EDD = And(
    (
        _LMP_COUNTS,
        Or(
            (
                _days_apart(_LMP_VALUE, Ctx("edd_lmp_low")),
                _days_apart(_LMP_VALUE, Ctx("edd_lmp_high")),
            )
        ),
    )
)


# A recorded gestational age (stop 41, issue 12) checks the LMP as an EDD does: on the day D it
# was taken it implies an LMP of D less the gestation (`ga_lmp_latest`; one in whole weeks, read
# as completed weeks, as early as 6 days before: `ga_lmp_earliest`). Whatever its method (by
# ultrasound, by LMP, from a selected delivery date), an LMP further than the tolerance outside
# that span cannot be right beside it: the scan redated her, or the record contradicts itself
# (the card offered progesterone at 15+0 by the LMP to a woman a scan put at 16+6). A gestational
# age, or an EDD given to a month only, that cannot be read leaves it unknown whether the LMP is
# right, so the LMP does not date her either (never a gestation in no unit taken as weeks).
def _checks_the_lmp(implied_lmp: Expr) -> Expr:
    """A row recorded by the assessment, of this pregnancy, its implied LMP in the window."""
    return And(
        (
            Not(IsNull(implied_lmp)),
            Not(IsTrue(Cmp(">", _DAY, _ASSESSED_ON))),
            _yes(_within_window(implied_lmp)),
            Not(_BEFORE_NOT_PREGNANT),
        )
    )


_GA_COUNTS = _checks_the_lmp(Col("ga_lmp_latest"))
_GA_UNREADABLE_COUNTS = And((_yes(Col("ga_unusable")), _checks_the_lmp(_DAY)))
_EDD_NOT_A_DAY_COUNTS = _checks_the_lmp(Col("edd_coarse_lmp"))
# an EDD that is no date is placed by the day it was recorded, as an unreadable gestational age
_EDD_UNREADABLE_COUNTS = And((_yes(Col("edd_unusable")), _checks_the_lmp(_DAY)))
# An LMP whose value is not a day (stop 44, issue 12), recorded by the assessment in this
# pregnancy (placed by the day it was recorded, as an unreadable EDD is): a row of the `lmp`
# latest with no value, so when it is the newest the LMP is unknown (an older full one dated her
# before, though the newer says her period was another time); a full LMP recorded after it dates
# her. A CRL still dates her over it (`GESTATION_DAYS`).
_LMP_UNREADABLE_COUNTS = And((_yes(Col("lmp_unreadable")), _checks_the_lmp(_DAY)))
# an LMP later than the latest the gestational ages allow (she is less far on by it), or earlier
# than the earliest
_LMP_AGAINST_GESTATIONAL_AGE = And(
    (
        _LMP_COUNTS,
        Or(
            (
                IsTrue(
                    Cmp(
                        ">",
                        DaysBetween(Ctx("ga_lmp_latest"), _LMP_VALUE),
                        Const(EDD_LMP_TOLERANCE_DAYS),
                    )
                ),
                IsTrue(
                    Cmp(
                        ">",
                        DaysBetween(_LMP_VALUE, Ctx("ga_lmp_earliest")),
                        Const(EDD_LMP_TOLERANCE_DAYS),
                    )
                ),
            )
        ),
    )
)
_LMP_UNCHECKED = And(
    (
        _LMP_COUNTS,
        IsTrue(Ctx("dating_unreadable")),
        Not(_LMP_AGAINST_EDD),
        Not(_LMP_AGAINST_GESTATIONAL_AGE),
    )
)

# Lengths that count: measured, dated, in the window.
_LENGTH_OK = And((Not(IsNull(Col("mm"))), _yes(_within_window(_DAY))))
_CRL_OF_THIS = And((_is(Col("length_kind"), "crl"), _LENGTH_OK, Not(_BEFORE_NOT_PREGNANT)))
# a CRL on a result not known to be verified (`unconfirmed`, stop 45) never dates her: named
_CRL_UNVERIFIED = And((_CRL_OF_THIS, _yes(Col("unconfirmed"))))
_DATING_CRL = And((_CRL_OF_THIS, Not(_yes(Col("unconfirmed")))))
_START = Coalesce(
    (
        Ctx("lmp"),
        AddDays(
            _ASSESSED_ON,
            Arith(
                "-",
                Const(0),
                with_context(
                    GESTATION_DAYS,
                    {
                        "lmp": Const(None),
                        "assessed_on": _ASSESSED_ON,
                        "dating_crl_mm": Ctx("dating_crl_mm"),
                        "dating_scan_date": Ctx("dating_scan_date"),
                    },
                ),
            ),
        ),
    )
)

# Miscarriages: history codes are not placed in a pregnancy (they may be noted years after the
# loss) but one dated after the assessment was not known then, as a "yes" or as a "no". A count
# of past miscarriages (`_COUNT_HISTORY`, IPS) is a history entry too, read the same way: a count
# recorded before this pregnancy was true then and is a lower bound now; the dated losses before
# this pregnancy are counted by day and the larger of the two is taken, never their sum (the
# count may already hold them), so nothing is overstated; and its 0 gives way to any dated loss
# before this pregnancy (`before_days`), or to a loss that cannot be placed (`unplaced`).
_HISTORY_ROW = Not(IsNull(Col("history_at_least")))
# A loss dated to a month or a year only (no full date: `earliest_day`, `latest_day` its span).
# One whose span ended before this pregnancy is a previous miscarriage, read as a history entry
# of at least one (which day is unknown, so it is never counted beside the dated losses: the
# larger is taken, nothing is overstated). One whose span lies wholly in this pregnancy, up to
# the assessment day, is a miscarriage of this pregnancy, as a full date there is. Any other
# (a span across the start of this pregnancy or the assessment day) cannot be placed: named.
_UNDATED_LOSS = And((_yes(Col("miscarriage")), IsNull(_DAY)))
_LOSS_BEFORE_UNDATED = And((_UNDATED_LOSS, _is(place(Col("latest_day")), "before")))
_LOSS_IN_THIS_UNDATED = And(
    (
        _UNDATED_LOSS,
        _is(place(Col("earliest_day")), "this"),
        _is(place(Col("latest_day")), "this"),
    )
)
_LOSS_PLACED_BY_SPAN = Or((_LOSS_BEFORE_UNDATED, _LOSS_IN_THIS_UNDATED))
# A span that meets this pregnancy's days up to the assessment day without lying wholly in them
# ("2024" or "2024-01" with her LMP on 2024-01-15; "2024-03" read on 2024-03-04; a period with a
# start only) may be this pregnancy's loss: whether this pregnancy has miscarried is unknown
# (`miscarriage_diagnosed` None: `needs_information`), never "no" (stop 25; it was only named,
# so beside a dated earlier loss the card offered progesterone). Its end is not cut at the
# assessment day, though on the card a record cannot be later than today: the audit reads an
# export made later, where "2024-03" may be a loss after the audited encounter, and one
# definition reads it alike for both; either way the offer is held back and a clinician
# confirms. A span wholly after the assessment day was not known then (ignored, named).
# Stop 26: a loss with no date at all (only its code: no onset, no recorded day) may be this
# pregnancy's just as well (it was named and ignored, so beside a dated earlier loss and today's
# intrauterine scan with a heartbeat the card offered progesterone): read as such a span, with
# neither bound. Whether it is a previous miscarriage is left as it was (`unplaced`: it makes a
# recorded "none" unknown; beside a known previous one it cannot change the count that matters,
# one or more).
# Written with plain comparisons, not `place` (each of its calls is written out in the problems'
# union, the largest statement: `tests/records/test_code_table.py`). With this pregnancy dated:
# not from after the assessment day; not ended before this pregnancy; and not wholly in it (a
# bound missing, or the span starting before it or ending after the day).
_EARLIEST = Col("earliest_day")
_LATEST = Col("latest_day")
_SPAN_MAY_BE_THIS = (
    Not(IsNull(Ctx("start"))),
    Or((IsNull(_EARLIEST), Cmp("<=", _EARLIEST, _ASSESSED_ON))),
    Or((IsNull(_LATEST), Cmp(">=", _LATEST, Ctx("start")))),
    Or(
        (
            IsNull(_EARLIEST),
            IsNull(_LATEST),
            Cmp("<", _EARLIEST, Ctx("start")),
            Cmp(">", _LATEST, _ASSESSED_ON),
        )
    ),
)
_LOSS_MAY_BE_THIS = IsTrue(And((_UNDATED_LOSS, *_SPAN_MAY_BE_THIS)))
_NO_SPAN = And((IsNull(_EARLIEST), IsNull(_LATEST)))

# Ectopic pregnancies dated to a month or a year only, or not dated (a Condition coded so, a scan
# finding; stop 26). A dated one is a scan day of its own whose location is ectopic (carried
# until a later scan reads another). Named and ignored before, so beside today's intrauterine
# scan the card offered progesterone though the ectopic may be this pregnancy's (HAZ-01). Now:
# - a span wholly in this pregnancy, up to the assessment day, is read as a dated one is, on
#   the last day of its span (the latest it can have been known: a scan after the span reads
#   over it as over a dated one; a scan within the span cannot be ordered against it and the
#   ectopic, ranked first on a day, stands: never "intrauterine");
# - a span that may fall in this pregnancy (or no date at all: it may be this pregnancy's too)
#   makes the location of the latest scan unknown unless that scan shows an ectopic
#   (`needs_information`, never "intrauterine"), the record named for a clinician to confirm;
# - a span wholly before this pregnancy is a past ectopic, as a dated one before it is: not of
#   this pregnancy, but a previous ectopic pregnancy (`_ECTOPIC_BEFORE`, stop 27).
_ECTOPIC_ROW = _is(Col("location"), "ectopic")
_UNDATED_ECTOPIC = And((_ECTOPIC_ROW, IsNull(_DAY)))
_ECTOPIC_IN_THIS_UNDATED = And(
    (
        _UNDATED_ECTOPIC,
        _is(place(_EARLIEST), "this"),
        _is(place(_LATEST), "this"),
    )
)
_ECTOPIC_MAY_BE_THIS = IsTrue(And((_UNDATED_ECTOPIC, *_SPAN_MAY_BE_THIS)))
# a span read, so not named as undated: either of the two, or one wholly before this pregnancy
# (a previous ectopic: `_ECTOPIC_BEFORE`, stop 27); that is, a span that did not begin after the
# assessment day, with this pregnancy dated, or else ended before the window. The same test in
# fewer words, for the problems' union (`tests/records/test_code_table.py`).
_ECTOPIC_SPAN_READ = IsTrue(
    And(
        (
            _UNDATED_ECTOPIC,
            _SPAN_MAY_BE_THIS[1],
            Or((Not(IsNull(Ctx("start"))), Cmp("<", _LATEST, Ctx("window_start")))),
        )
    )
)
# A previous ectopic pregnancy (NG126 1.3: a risk factor, so no community management; stop 27):
# an ectopic pregnancy on record (a Condition neither refuted nor entered in error, a scan finding,
# a report's conclusion: the rows whose location is "ectopic") dated before this pregnancy, or
# dated to a month or a year only whose span ended before it: `place`'s "before" (before its
# start, or before the window when it cannot be dated), in fewer words for the problems' union.
# One that is, or may be, this pregnancy's is not a previous one. True only: a record with none
# says nothing (she may have had one elsewhere), so `previous_ectopic` is Unknown, never "no".
# Stop 31: a Procedure that treated an ectopic pregnancy is such a row (`_PROCEDURE_ROWS`, placed
# by performed[x]); and a history entry ("History of ectopic pregnancy", `ectopic_history`) is a
# previous one by its meaning, whenever it was recorded up to the assessment, as a history of
# miscarriage is (`_HISTORY_KNOWN`): it is never read as an ectopic of this pregnancy, and one
# recorded in this pregnancy (at booking) still tells of an earlier one. Were it this
# pregnancy's, reading it as a previous one only sends her to the unit (NG126 1.3), never home.
_BEFORE_THIS_PREGNANCY = Coalesce((Ctx("start"), Ctx("window_start")))
_ECTOPIC_BEFORE = And(
    (_ECTOPIC_ROW, _is(Cmp("<", Coalesce((_DAY, _LATEST)), _BEFORE_THIS_PREGNANCY), True))
)
_ECTOPIC_HISTORY_ROW = _yes(Col("ectopic_history"))
_ECTOPIC_HISTORY_KNOWN = And((_ECTOPIC_HISTORY_ROW, Not(_is(_PLACE, "future"))))
_HISTORY_KNOWN = And((_HISTORY_ROW, Not(_is(_PLACE, "future"))))
_EVENT_ROW = _yes(Col("miscarriage"))
# A miscarriage's procedure dated before this pregnancy: at least one previous miscarriage, not a
# loss of its own day (`_PROCEDURE_ROWS`)
_PROCEDURE_ROW = _yes(Col("procedure"))
_LOSS_TREATED_BEFORE = And((_EVENT_ROW, _PROCEDURE_ROW, _is(_PLACE, "before")))
# A previous miscarriage recorded as not confirmed (`_UNCONFIRMED`) is not counted (it would open
# an offer): with no confirmed one, the count is Unknown, never 0; named. One of this pregnancy
# still counts (it holds the offer back), as does one that cannot be placed (`unplaced`).
_UNCONFIRMED_ROW = _yes(Col("unconfirmed"))
_LOSS_BEFORE_DAY = And((_EVENT_ROW, _is(_PLACE, "before")))
_PREVIOUS = If(
    Or((Not(IsNull(Ctx("at_least"))), Cmp(">", Ctx("before_days"), Const(0)))),
    _greater(Ctx("before_days"), Coalesce((Ctx("at_least"), Const(0)))),
    # a recorded "no previous miscarriage" stands unless a miscarriage is on record that could
    # not be placed (it may be a previous one): then the count is unknown, not 0
    If(And((_yes(Ctx("denied")), Not(_yes(Ctx("unplaced"))))), Const(0), Const(None)),
)

# Scans by day: where (a definite ectopic, then an uncertain finding, then an intrauterine one,
# then a scan report that could not be read), the larger CRL and MSD of the day, and one
# heartbeat answer or none.
_ECTOPIC_RANK = 4
_READ_LOCATION_RANK = (
    ("ectopic", _ECTOPIC_RANK),
    ("uncertain", 3),
    (IUP_NOT_SEEN_LOCATION, 3),
    ("intrauterine", 1),
)
# a record coded locally naming a loss or an ectopic (`_LOCALLY_CODED_ROWS`): above an
# intrauterine finding of its day, below any other
_LOCALLY_CODED_RANK = 2
_UNREAD_RANK = 0
_LOCATION_RANK = (
    *_READ_LOCATION_RANK,
    (LOCALLY_CODED_LOCATION, _LOCALLY_CODED_RANK),
    (UNREAD_LOCATION, _UNREAD_RANK),
)
_UNREAD_ROW = _is(Col("location"), UNREAD_LOCATION)
_LOCALLY_CODED_ROW = _is(Col("location"), LOCALLY_CODED_LOCATION)
# an unread row of a scan finding sent as an Observation (its versions held back), not a report's
_UNREAD_FINDING = _is(Left(Col("ref"), len("Observation/")), "Observation/")
# ... and of a scan known only by its images (an ImagingStudy, `_IMAGES_ONLY_ROWS`)
_UNREAD_IMAGES = _is(Left(Col("ref"), len("ImagingStudy/")), "ImagingStudy/")
# ... or by its Procedure (`_LONE_PROCEDURE_ROWS`)
_UNREAD_PROCEDURE = _is(Left(Col("ref"), len("Procedure/")), "Procedure/")
_LOCATION_READ = IsTrue(OneOf(Col("location"), tuple(name for name, _ in _READ_LOCATION_RANK)))
_LENGTH_COUNTS = _LENGTH_OK
# a report's or a Procedure's row of its route alone (`_REPORT_ROUTE_ROWS`,
# `_PROCEDURE_ROUTE_ROWS`): it says a scan was done
_REPORT_ROUTE_ROW = And(
    (
        Not(IsNull(Col("scan_route"))),
        Or(
            (
                _is(Left(Col("ref"), len("DiagnosticReport/")), "DiagnosticReport/"),
                _is(Left(Col("ref"), len("Procedure/")), "Procedure/"),
            )
        ),
    )
)
_SCAN_ROW = Or(
    (
        And(
            (
                _THIS,
                Or(
                    (
                        Not(IsNull(Col("location"))),
                        Not(IsNull(Col("heart"))),
                        _LENGTH_COUNTS,
                        _REPORT_ROUTE_ROW,
                    )
                ),
            )
        ),
        _ECTOPIC_IN_THIS_UNDATED,
    )
)
# a scan row's day: its own, else (an ectopic whose span lies in this pregnancy) its span's last
_SCAN_DAY = Coalesce((_DAY, _LATEST))


def _length_of(kind: str) -> Agg:
    return Agg(
        "max",
        "clinical",
        Const(True),
        If(And((_is(Col("length_kind"), kind), _LENGTH_COUNTS)), Col("mm"), Const(None)),
        evidence="scans",
    )


def _route_is(route: str) -> Agg:
    """Does a finding that day name this route (alone or beside the other)?"""
    return _any_finding(IsTrue(OneOf(Col("scan_route"), (route, ROUTE_BOTH))))


def _heart_is(answer: str) -> Agg:
    return _any_finding(_is(Col("heart"), answer))


def _any_finding(found: Expr) -> Agg:
    """True when ``found`` holds of one of the day's scan findings, else None (never False)."""
    return Agg(
        "any", "clinical", Const(True), If(found, Const(True), Const(None)), evidence="scans"
    )


_SCANS = Days(
    "clinical",
    _SCAN_ROW,
    _SCAN_DAY,
    (
        (
            "location_rank",
            Agg(
                "max",
                "clinical",
                Const(True),
                Lookup(Col("location"), _LOCATION_RANK),
                evidence="scans",
            ),
        ),
        # the location read that day, an unread report left out (carried: the latest read)
        (
            "read_rank",
            Agg(
                "max",
                "clinical",
                Const(True),
                Lookup(Col("location"), _READ_LOCATION_RANK),
            ),
        ),
        ("crl_mm", _length_of("crl")),
        # a CRL of the day on a result not known to be verified: the day's CRL does not date her
        # (the safe side: of a final and a preliminary CRL that day, neither does)
        (
            "crl_unverified",
            Agg(
                "any",
                "clinical",
                Const(True),
                If(
                    And((_is(Col("length_kind"), "crl"), _LENGTH_COUNTS, _yes(Col("unconfirmed")))),
                    Const(True),
                    Const(None),
                ),
                evidence="scans",
            ),
        ),
        ("msd_mm", _length_of("msd")),
        ("seen", _heart_is("seen")),
        ("absent", _heart_is("absent")),
        ("heart_uncertain", _heart_is("uncertain")),
        ("route_tv", _route_is("transvaginal")),
        ("route_ta", _route_is("transabdominal")),
    ),
    # a location seen on an earlier day of this pregnancy stands until another is recorded; a
    # day made uncertain, or a scan report that could not be read, ends it (but an ectopic
    # pregnancy seen before an unread report stands)
    carry=("location_rank", "read_rank"),
    derived=(
        (
            "read_location",
            If(
                And(
                    (
                        IsTrue(OneOf(Col("location_rank"), (_UNREAD_RANK, _LOCALLY_CODED_RANK))),
                        _is(Col("read_rank"), _ECTOPIC_RANK),
                    )
                ),
                Const("ectopic"),
                Coalesce(
                    (
                        Lookup(
                            Col("location_rank"),
                            (
                                (_ECTOPIC_RANK, "ectopic"),
                                (3, UNKNOWN_LOCATION),
                                (_LOCALLY_CODED_RANK, REPORT_NOT_READ_LOCATION),
                                (1, "intrauterine"),
                                # not "unknown" (a pregnancy of unknown location):
                                # the contract's own value for a report not read
                                (_UNREAD_RANK, REPORT_NOT_READ_LOCATION),
                            ),
                        ),
                        Const(UNKNOWN_LOCATION),
                    )
                ),
            ),
        ),
        # an ectopic that may be this pregnancy's (stop 26): the latest scan's location is
        # unknown, unless it shows an ectopic
        (
            "location",
            If(
                And(
                    (
                        _yes(Ctx("ectopic_unknown")),
                        _is(Cmp("==", Col("day"), Ctx("last_scan_day")), True),
                        Not(_is(Col("read_location"), "ectopic")),
                    )
                ),
                Const(UNKNOWN_LOCATION),
                Col("read_location"),
            ),
        ),
        ("fetal_pole", If(Cmp(">", Col("crl_mm"), Const(0)), Const(True), Const(None))),
        (
            "fetal_heartbeat",
            If(
                Or((_yes(Col("heart_uncertain")), And((_yes(Col("seen")), _yes(Col("absent")))))),
                Const(None),
                If(
                    _yes(Col("seen")),
                    Const(True),
                    If(_yes(Col("absent")), Const(False), Const(None)),
                ),
            ),
        ),
        # a route named that day, Unknown where none is or both are (never the contract's
        # transvaginal default: a record that does not say is not read as saying)
        (
            "route",
            If(
                _yes(Col("route_tv")),
                If(_yes(Col("route_ta")), Const(None), Const("transvaginal")),
                If(_yes(Col("route_ta")), Const("transabdominal"), Const(None)),
            ),
        ),
        ("route_conflict", And((_yes(Col("route_tv")), _yes(Col("route_ta"))))),
        (
            "heart_conflict",
            Cmp(
                ">=",
                Arith(
                    "+",
                    Arith(
                        "+",
                        If(_yes(Col("seen")), Const(1), Const(0)),
                        If(_yes(Col("absent")), Const(1), Const(0)),
                    ),
                    If(_yes(Col("heart_uncertain")), Const(1), Const(0)),
                ),
                Const(2),
            ),
        ),
    ),
)

# Progesterone: an active request, not "do not perform", not written after the assessment nor
# before this pregnancy (one left active since an earlier one is not what she is on now;
# undated or unplaceable ones still count). This encounter's own requests are the care given
# there, not what she was on (the audit; a CDS call has no encounter).
_REQUEST_COUNTS = And(
    (
        _status_in(Col("status"), "active_medication_status"),
        Not(_yes(Col("do_not_perform"))),
        Not(_yes(Col("dnp_unreadable"))),
        Not(IsTrue(OneOf(place(Col("authored")), ("future", "before")))),
        Not(_yes(Cmp("==", Col("encounter"), Ctx("encounter")))),
    )
)
# A statement that she takes it: active, not dated after the assessment nor before this
# pregnancy, not this encounter's own.
_STATEMENT_COUNTS = And(
    (
        _status_in(Col("status"), "active_medication_status"),
        Not(IsTrue(OneOf(place(Col("taken")), ("future", "before")))),
        Not(_yes(Cmp("==", Col("encounter"), Ctx("encounter")))),
    )
)
# One whose record cannot say whether it is current: status "unknown", or (a request) a
# doNotPerform that is neither true nor false. For progesterone, or a medicine that cannot be
# identified, whether she is on progesterone is then Unknown, never "not on it".
_STATUS_UNKNOWN = _status_in(Col("status"), "unknown_medication_status")
# no status, or one that is not text (reported as malformed): read as 'unknown'
_STATUS_UNREAD = IsNull(Col("status"))
_STATUS_UNSURE = Or((_STATUS_UNKNOWN, _STATUS_UNREAD))
_REQUEST_UNSURE = And(
    (
        Or(
            (
                _STATUS_UNSURE,
                And(
                    (
                        _status_in(Col("status"), "active_medication_status"),
                        _yes(Col("dnp_unreadable")),
                    )
                ),
            )
        ),
        Not(_yes(Col("do_not_perform"))),
        Not(IsTrue(OneOf(place(Col("authored")), ("future", "before")))),
        Not(_yes(Cmp("==", Col("encounter"), Ctx("encounter")))),
        Not(_is(Col("progesterone"), False)),
    )
)
_STATEMENT_UNSURE = And(
    (
        _STATUS_UNSURE,
        Not(IsTrue(OneOf(place(Col("taken")), ("future", "before")))),
        Not(_yes(Cmp("==", Col("encounter"), Ctx("encounter")))),
        Not(_is(Col("progesterone"), False)),
    )
)


def _progestogen_counts(counts: Expr) -> Expr:
    """A current medicine (``counts``) that is a progestogen and not progesterone."""
    return And((counts, _yes(Col("progestogen")), Not(_yes(Col("progesterone")))))


# A current progesterone row is NG126's product: True, False (one of the three differs), or None.
_ROW_AS_NG126 = And(tuple(Col(name) for name in _AS_NG126))


def _any_current_progesterone(test: Expr) -> Expr:
    """Any current progesterone request or statement of hers for which ``test`` holds."""
    return Or(
        tuple(
            Agg("any", table, And((counts, _yes(Col("progesterone")), test)), Const(True))
            for table, counts in (("requests", _REQUEST_COUNTS), ("statements", _STATEMENT_COUNTS))
        )
    )


# Current pregnancy: a sign dated in the window (a Condition not abated before the day) and not
# before a later "not pregnant", or a miscarriage on the very day. A Condition recorded after its
# onset says so on the day it was recorded.
_STATED = If(IsTrue(Cmp(">", Col("recorded"), _DAY)), Col("recorded"), _DAY)
_SHOWS_IN_WINDOW = And(
    (
        _yes(Col("shows")),
        _yes(_within_window(_DAY)),
        Not(_is(Cmp("<", Col("abated"), _ASSESSED_ON), True)),
    )
)
_SIGN_SHOWS = Or(
    (
        And(
            (
                _yes(Col("ends")),
                Or(
                    (
                        _is(Cmp("==", _DAY, _ASSESSED_ON), True),
                        _is(Cmp("==", Col("recorded"), _ASSESSED_ON), True),
                    )
                ),
            )
        ),
        And((_SHOWS_IN_WINDOW, Not(_is(Cmp("<", _STATED, _NOT_PREGNANT_ON), True)))),
    )
)
# A pregnancy shown on the very day of the latest "not pregnant": which came first is unknown.
_SAME_DAY_AS_NOT_PREGNANT = And(
    (Or((_SHOWS_IN_WINDOW, _LMP_COUNTS)), _is(Cmp("==", _STATED, _NOT_PREGNANT_ON), True))
)

_STEPS: tuple[tuple[str, Expr], ...] = (
    ("window_start", AddDays(_ASSESSED_ON, Const(-WINDOW_DAYS))),
    (
        "not_pregnant_on",
        Agg(
            "max",
            "clinical",
            And((_yes(Col("not_pregnant")), _is(Cmp("<=", _DAY, _ASSESSED_ON), True))),
            _DAY,
        ),
    ),
    ("not_pregnant_conflict", Agg("any", "clinical", _SAME_DAY_AS_NOT_PREGNANT, Const(True))),
    ("edd_lmp_low", Agg("min", "clinical", _EDD_COUNTS, _EDD_LMP)),
    ("edd_lmp_high", Agg("max", "clinical", _EDD_COUNTS, _EDD_LMP)),
    # the LMP span every recorded gestational age allows: the least latest, the most earliest
    ("ga_lmp_latest", Agg("min", "clinical", _GA_COUNTS, Col("ga_lmp_latest"))),
    ("ga_lmp_earliest", Agg("max", "clinical", _GA_COUNTS, Col("ga_lmp_earliest"))),
    (
        "dating_unreadable",
        Agg(
            "any",
            "clinical",
            Or((_GA_UNREADABLE_COUNTS, _EDD_NOT_A_DAY_COUNTS, _EDD_UNREADABLE_COUNTS)),
            Const(True),
        ),
    ),
    (
        "lmp",
        Agg(
            "latest",
            "clinical",
            Or(
                (
                    And(
                        (
                            _LMP_COUNTS,
                            Not(_LMP_UNVERIFIED),
                            Not(_LMP_AGAINST_EDD),
                            Not(_LMP_AGAINST_GESTATIONAL_AGE),
                            Not(IsTrue(Ctx("dating_unreadable"))),
                        )
                    ),
                    # newest, these leave the LMP unknown; on one day a usable LMP wins
                    _LMP_UNREADABLE_COUNTS,
                    _LMP_UNVERIFIED,
                )
            ),
            _LMP_DATES,
            (Coalesce((_DAY, _LMP_VALUE)), _LMP_DATES),
            evidence="lmp",
        ),
    ),
    # the latest CRL dates the pregnancy; of two on that day the larger, as the scan shows
    ("dating_crl_mm", Agg("latest", "clinical", _DATING_CRL, Col("mm"), (_DAY, Col("mm")))),
    ("dating_scan_date", Agg("max", "clinical", _DATING_CRL, _DAY)),
    ("start", _START),
    (
        "at_least",
        Agg(
            "max",
            "clinical",
            And(
                (
                    Not(_UNCONFIRMED_ROW),
                    Or(
                        (
                            And((_HISTORY_KNOWN, Not(_yes(Col("refuted"))))),
                            _LOSS_BEFORE_UNDATED,
                            _LOSS_TREATED_BEFORE,
                        )
                    ),
                )
            ),
            If(_HISTORY_ROW, Col("history_at_least"), Const(1)),
            evidence="previous_miscarriages",
        ),
    ),
    (
        "denied",
        Agg(
            "any",
            "clinical",
            And((_HISTORY_KNOWN, _yes(Col("refuted")))),
            Const(True),
            evidence="previous_miscarriages_denied",
        ),
    ),
    (
        "before_days",
        Agg(
            "count_distinct",
            "clinical",
            And((_LOSS_BEFORE_DAY, Not(_PROCEDURE_ROW), Not(_UNCONFIRMED_ROW))),
            _DAY,
            evidence="previous_miscarriages",
        ),
    ),
    (
        "unplaced",
        Agg(
            "any",
            "clinical",
            And(
                (
                    _EVENT_ROW,
                    IsTrue(OneOf(_PLACE, ("undated", "unplaced"))),
                    Not(_LOSS_PLACED_BY_SPAN),
                )
            ),
            Const(True),
        ),
    ),
    (
        "diagnosed",
        Agg(
            "any",
            "clinical",
            Or((And((_EVENT_ROW, _THIS)), _LOSS_IN_THIS_UNDATED)),
            Const(True),
            evidence="miscarriage_diagnosed",
        ),
    ),
    (
        "vaginal_bleeding",
        # the latest record of this pregnancy, one that does not know included (it wins over an
        # older answer); on the same day "present" wins, then "absent"
        Agg(
            "latest",
            "clinical",
            And((_yes(Col("bleeding_code")), _THIS, Or((_BLEEDING_ANSWERED, _BLEEDING_NOT_KNOWN)))),
            _BLEEDING_NOW,
            (_BLEEDING_SAID_ON, _BLEEDING_NOW),
            evidence="vaginal_bleeding",
        ),
    ),
    ("previous_miscarriages", _PREVIOUS),
    (
        "miscarriage_unknown",
        Agg("any", "clinical", _LOSS_MAY_BE_THIS, Const(True), evidence="miscarriage_diagnosed"),
    ),
    # a miscarriage of this pregnancy read wins; else one that may be this pregnancy's leaves it
    # Unknown; else none
    (
        "miscarriage_diagnosed",
        If(
            _yes(Ctx("diagnosed")),
            Const(True),
            If(_yes(Ctx("miscarriage_unknown")), Const(None), Const(False)),
        ),
    ),
    (
        "ectopic_unknown",
        Agg("any", "clinical", _ECTOPIC_MAY_BE_THIS, Const(True), evidence="scans"),
    ),
    # True, or None over no such row (never False): a step of its own, so that the generated
    # reading runs it inline (`tests/records/test_reading_calls_saved.py`)
    (
        "previous_ectopic",
        Agg(
            "any",
            "clinical",
            Or((_ECTOPIC_BEFORE, _ECTOPIC_HISTORY_KNOWN)),
            Const(True),
            evidence="previous_ectopic",
        ),
    ),
    ("last_scan_day", Agg("max", "clinical", _SCAN_ROW, _SCAN_DAY)),
    ("scans", _SCANS),
    # the latest day of this pregnancy with a location read: a scan report that could not be
    # read, dated after it, holds the decision back (named: `UNREAD_REPORT_MESSAGE`)
    ("read_location_on", Agg("max", "clinical", And((_THIS, _LOCATION_READ)), _DAY)),
    # any current progesterone request says yes; else one for a medicine that cannot be
    # identified, or one for progesterone whose record cannot say whether it is current, leaves
    # it Unknown (it may be progesterone: never read as "not on it")
    (
        "progesterone_unknown",
        Or(
            (
                Agg(
                    "any",
                    "requests",
                    And((_REQUEST_COUNTS, IsNull(Col("progesterone")))),
                    Const(True),
                ),
                Agg(
                    "any",
                    "statements",
                    And((_STATEMENT_COUNTS, IsNull(Col("progesterone")))),
                    Const(True),
                ),
                Agg("any", "requests", _REQUEST_UNSURE, Const(True)),
                Agg("any", "statements", _STATEMENT_UNSURE, Const(True)),
                # a current progestogen that is not progesterone (stop 52)
                Agg("any", "requests", _progestogen_counts(_REQUEST_COUNTS), Const(True)),
                Agg("any", "statements", _progestogen_counts(_STATEMENT_COUNTS), Const(True)),
            )
        ),
    ),
    (
        "on_progesterone",
        If(
            _yes(
                Or(
                    (
                        Agg(
                            "any",
                            "requests",
                            _REQUEST_COUNTS,
                            Col("progesterone"),
                            evidence="on_progesterone",
                        ),
                        Agg(
                            "any",
                            "statements",
                            _STATEMENT_COUNTS,
                            Col("progesterone"),
                            evidence="on_progesterone",
                        ),
                    )
                )
            ),
            Const(True),
            If(_yes(Ctx("progesterone_unknown")), Const(None), Const(False)),
        ),
    ),
    # A current medicine of hers identified as a progestogen that is not progesterone (stop 53,
    # w-dosage53): never Unknown. It is why `on_progesterone` is Unknown for her, so the card's
    # "why" says it was identified (as a progestogen), not that it could not be identified.
    (
        "on_other_progestogen",
        _yes(
            Or(
                (
                    Agg("any", "requests", _progestogen_counts(_REQUEST_COUNTS), Const(True)),
                    Agg("any", "statements", _progestogen_counts(_STATEMENT_COUNTS), Const(True)),
                )
            )
        ),
    ),
    # Whether her current progesterone is NG126 1.5.2's product (stop 52): no when a current
    # progesterone of hers differs in route, dose or frequency; else Unknown when one does not
    # say them all; else yes. None when she is not known to be on progesterone. Each such
    # medicine is named with what differs or is missing (`_medicine_problems`).
    (
        "on_recommended_progesterone",
        If(
            _yes(Ctx("on_progesterone")),
            If(
                _yes(_any_current_progesterone(IsTrue(Not(_ROW_AS_NG126)))),
                Const(False),
                If(
                    _yes(_any_current_progesterone(IsNull(_ROW_AS_NG126))),
                    Const(None),
                    Const(True),
                ),
            ),
            Const(None),
        ),
    ),
    (
        "allergies",
        Agg("collect", "allergies", Not(IsNull(Col("name"))), Col("name"), evidence="allergies"),
    ),
    ("pregnancy_signs", Agg("collect", "clinical", _SIGN_SHOWS, Col("ref"))),
    ("gender", Agg("latest", "patients", Not(IsNull(Col("gender"))), Col("gender"), (Col("n"),))),
    # Is her Patient in the record (True, else None)? Without it her sex and age are unknown: the
    # record is still judged on its pregnancy evidence, and for an encounter (the audit) that is
    # reported (`_PROBLEMS`) once,
    # on a row of that evidence every engine picks alike (the least ref; ``n`` is each engine's
    # own input order).
    ("patient_known", Agg("any", "patients", Const(True), Const(True))),
    ("first_evidence", Agg("min", "clinical", Or((_SIGN_SHOWS, _LMP_COUNTS)), Col("ref"))),
)

_LENGTH_WHAT = Lookup(
    Col("length_kind"), (("crl", "crown-rump length"), ("msd", "mean sac diameter"))
)


def _length_problem(code: str, *message: str | Expr) -> RowProblem:
    return RowProblem(
        "clinical", _is(Col("length_problem"), code), Message.of(_LENGTH_WHAT, *message)
    )


_UNRESOLVED_MESSAGE = (
    "its Medication could not be resolved: whether she is on progesterone is unknown"
)
_UNIDENTIFIED_MESSAGE = (
    "its medicine could not be identified (no SNOMED CT, dm+d or RxNorm code with a name, no "
    "progesterone name): whether she is on progesterone is unknown"
)


PROGESTOGEN_MESSAGE = (
    "it is a progestogen that is not progesterone (not the vaginal micronised progesterone 400 mg "
    "twice daily of NICE NG126 1.5.2; NICE found no benefit for any other preparation): whether "
    "to offer progesterone beside it needs a clinician's review, so whether she is on "
    "progesterone is unknown"
)
_STATUS_UNKNOWN_MESSAGE = "its status is 'unknown': whether she is on progesterone is unknown"
_STATUS_UNREAD_MESSAGE = (
    "its status is missing or not text: whether she is on progesterone is unknown"
)


NOT_NG126_PRODUCT_MESSAGE = (
    " the product NICE NG126 1.5.2 recommends (vaginal micronised progesterone 400 mg twice "
    "daily; NICE found no benefit for any other preparation or dose)"
)


def _as_ng126_part(column: str, differs: str, missing: str) -> Expr:
    """A part of the message: what the row's ``column`` says differs or is missing, or ""."""
    return If(
        _is(Col(column), False),
        Const(f"; {differs}"),
        If(IsNull(Col(column)), Const(f"; {missing}"), Const("")),
    )


def _medicine_problems(table: str, counts: Expr) -> tuple[RowProblem, ...]:
    """A current medicine that cannot be told to be progesterone or not (`on_progesterone`)."""
    return (
        RowProblem(table, And((counts, _yes(Col("unresolved")))), Message.of(_UNRESOLVED_MESSAGE)),
        RowProblem(
            table,
            And(
                (
                    counts,
                    IsNull(Col("progesterone")),
                    Not(_yes(Col("unresolved"))),
                    Not(_yes(Col("progestogen"))),
                )
            ),
            Message.of(_UNIDENTIFIED_MESSAGE),
        ),
        RowProblem(table, _progestogen_counts(counts), Message.of(PROGESTOGEN_MESSAGE)),
        # her current progesterone, not known to be NG126's product: what differs, what is missing
        # (one that gives none of the three is named by the advice alone: a progesterone with no
        # structured dosage is common, and its record is not otherwise wrong)
        RowProblem(
            table,
            And(
                (
                    counts,
                    _yes(Col("progesterone")),
                    Not(_yes(_ROW_AS_NG126)),
                    Or(tuple(Not(IsNull(Col(name))) for name in _AS_NG126)),
                )
            ),
            Message.of(
                If(IsTrue(Not(_ROW_AS_NG126)), Const("it is not"), Const("whether it is")),
                NOT_NG126_PRODUCT_MESSAGE,
                If(IsTrue(Not(_ROW_AS_NG126)), Const(""), Const(" is unknown")),
                _as_ng126_part("route_as_ng126", "route not vaginal", "route not given"),
                _as_ng126_part(
                    "dose_as_ng126",
                    "dose not 400 mg",
                    "dose in mg not given (nor in units of a product of known strength)",
                ),
                _as_ng126_part("frequency_as_ng126", "not twice a day", "doses a day not given"),
                "; review it with her (do not add a second progesterone beside it)",
            ),
        ),
    )


_PROBLEMS: tuple[RowProblem, ...] = (
    RowProblem("malformed", Const(True), Message.of(Col("why"))),
    # the LMP
    RowProblem(
        "clinical",
        And((_yes(Col("lmp_code")), IsNull(_LMP_VALUE), Not(_LMP_UNREADABLE_COUNTS))),
        Message.of("LMP has no full date in valueDateTime; ignored"),
    ),
    RowProblem("clinical", _LMP_UNREADABLE_COUNTS, Message.of(LMP_NOT_A_DAY_MESSAGE)),
    RowProblem("clinical", _LMP_UNVERIFIED, Message.of(UNVERIFIED_LMP_MESSAGE)),
    RowProblem("clinical", _CRL_UNVERIFIED, Message.of(UNVERIFIED_CRL_MESSAGE)),
    RowProblem(
        "clinical",
        And((Not(IsNull(_LMP_VALUE)), _LMP_RECORDED_LATE)),
        Message.of("LMP was recorded after the assessment date; ignored"),
    ),
    RowProblem(
        "clinical",
        And(
            (
                Not(IsNull(_LMP_VALUE)),
                Not(_LMP_RECORDED_LATE),
                _is(Cmp(">", _LMP_VALUE, _ASSESSED_ON), True),
            )
        ),
        Message.of("LMP is after the assessment date; ignored"),
    ),
    RowProblem("clinical", _LMP_ENDED, Message.of(LMP_ENDED_MESSAGE)),
    RowProblem("clinical", _LMP_AGAINST_EDD, Message.of(LMP_AGAINST_EDD_MESSAGE)),
    RowProblem(
        "clinical",
        _LMP_AGAINST_GESTATIONAL_AGE,
        Message.of(LMP_AGAINST_GESTATIONAL_AGE_MESSAGE),
    ),
    RowProblem("clinical", _LMP_UNCHECKED, Message.of(LMP_UNCHECKED_MESSAGE)),
    RowProblem("clinical", _GA_UNREADABLE_COUNTS, Message.of(GESTATIONAL_AGE_UNREADABLE_MESSAGE)),
    RowProblem("clinical", _EDD_NOT_A_DAY_COUNTS, Message.of(EDD_NOT_A_DAY_MESSAGE)),
    RowProblem("clinical", _EDD_UNREADABLE_COUNTS, Message.of(EDD_UNREADABLE_MESSAGE)),
    # what shows a current pregnancy
    RowProblem(
        "clinical",
        And(
            (
                _yes(Col("not_pregnant")),
                _is(Cmp("==", _DAY, _NOT_PREGNANT_ON), True),
                _yes(Ctx("not_pregnant_conflict")),
            )
        ),
        Message.of(NOT_PREGNANT_CONFLICT_MESSAGE),
    ),
    RowProblem(
        "clinical",
        And(
            (
                _is(Cmp("==", Col("ref"), Ctx("first_evidence")), True),
                IsNull(Ctx("patient_known")),
                # an encounter's subject (the audit); a CDS call's patient is its context's, and
                # her Patient an optional prefetch nothing decided reads
                Not(IsNull(Ctx("encounter"))),
            )
        ),
        Message.of(NO_PATIENT_MESSAGE),
        ref=Message.of("Encounter.subject"),
    ),
    # lengths
    _length_problem("no value", " has no valueQuantity; ignored"),
    _length_problem("bound", " is a bound (comparator), not a value; ignored"),
    _length_problem(
        "unit",
        " unit '",
        If(_is(Col("unit"), ""), Const("(none)"), Col("unit")),
        "' is not mm or cm; ignored",
    ),
    _length_problem(
        "range", " ", Col("raw_mm"), f" mm is outside 0-{MAX_MEASUREMENT_MM:g} mm; ignored"
    ),
    RowProblem(
        "clinical",
        And((Not(IsNull(Col("mm"))), IsTrue(OneOf(_PLACE, ("undated", "future"))))),
        Message.of(_PLACE_MESSAGE),
    ),
    RowProblem(
        "clinical",
        And((_is(Col("length_kind"), "crl"), _LENGTH_OK, _NOT_PLACED)),
        Message.of("crown-rump length ", _PLACE_MESSAGE),
    ),
    RowProblem(
        "clinical",
        And((_is(Col("length_kind"), "msd"), _LENGTH_OK, _NOT_PLACED)),
        Message.of("mean sac diameter ", _PLACE_MESSAGE),
    ),
    # miscarriages
    RowProblem(
        "clinical",
        _yes(Col("mis_unreadable")),
        Message.of("miscarriage observation value is not present/absent; ignored"),
    ),
    RowProblem(
        "clinical",
        And((Or((_HISTORY_ROW, _ECTOPIC_HISTORY_ROW)), _is(_PLACE, "future"))),
        Message.of(
            If(
                _ECTOPIC_HISTORY_ROW,
                Const("history of ectopic pregnancy "),
                Const("history of miscarriage "),
            ),
            _PLACE_MESSAGE,
        ),
    ),
    RowProblem(
        "clinical",
        And((Not(IsNull(Col("count_problem"))), IsNull(Col("missing_medication")))),
        Message.of(Col("count_problem")),
    ),
    # a Medication the record does not hold or cannot name: its id, then what is unknown
    RowProblem(
        "clinical",
        Not(IsNull(Col("missing_medication"))),
        Message.of("names Medication/", Col("missing_medication"), " ", Col("count_problem")),
    ),
    _placed_problem(
        And((_EVENT_ROW, Not(_LOSS_PLACED_BY_SPAN), Not(_LOSS_MAY_BE_THIS))), "miscarriage"
    ),
    RowProblem(
        "clinical",
        _LOSS_MAY_BE_THIS,
        Message.of(If(_NO_SPAN, Const(LOSS_UNDATED_MESSAGE), Const(LOSS_MAY_BE_THIS_MESSAGE))),
    ),
    # bleeding
    _placed_problem(_yes(Col("bleeding_code")), "bleeding"),
    RowProblem(
        "clinical",
        And((_UNCONFIRMED_ROW, Or((_HISTORY_KNOWN, _LOSS_BEFORE_DAY, _LOSS_BEFORE_UNDATED)))),
        Message.of(
            If(
                _yes(Col("observed")),
                Const(UNVERIFIED_MISCARRIAGE_MESSAGE),
                Const(UNCONFIRMED_MISCARRIAGE_MESSAGE),
            )
        ),
    ),
    RowProblem(
        "clinical",
        And((_UNCONFIRMED_ROW, _yes(Col("bleeding_code")), _THIS)),
        Message.of(
            If(
                _yes(Col("observed")),
                Const(UNVERIFIED_BLEEDING_MESSAGE),
                Const(UNCONFIRMED_BLEEDING_MESSAGE),
            )
        ),
    ),
    RowProblem(
        "clinical",
        And((_yes(Col("bleeding_resolved")), _THIS)),
        Message.of("bleeding is recorded as resolved: whether she is bleeding now is unknown"),
    ),
    RowProblem(
        "clinical",
        And((_BLEEDING_MAY_HAVE_ENDED, _THIS)),
        Message.of(
            If(
                _is(Col("bleeding_abated"), BLEEDING_ABATED_WITH_STATUS),
                Const(BLEEDING_ACTIVE_ABATED_MESSAGE),
                Const(BLEEDING_ABATED_MESSAGE),
            )
        ),
    ),
    RowProblem(
        "clinical",
        And((_yes(Col("bleeding_code")), _yes(Col("observed")), _THIS, IsNull(Col("bleeding")))),
        Message.of("bleeding observation value is not present/absent; ignored"),
    ),
    # fetal heart
    RowProblem(
        "clinical", Not(IsNull(Col("heart_problem"))), Message.of(Col("heart_problem"), "; ignored")
    ),
    _placed_problem(Not(IsNull(Col("heart"))), "fetal heart finding"),
    RowProblem(
        "clinical",
        And((_is(Col("heart"), "uncertain"), _THIS)),
        Message.of("fetal heart finding is uncertain; the heartbeat that day is unknown"),
    ),
    # where the pregnancy is
    # a scan finding, or a Condition of ectopic pregnancy (not observed), that cannot be placed;
    # one problem for both (the problems' union is the largest statement: `test_code_table`)
    RowProblem(
        "clinical",
        And(
            (
                Not(IsNull(Col("location"))),
                Not(_UNREAD_ROW),
                Not(_LOCALLY_CODED_ROW),
                Not(_ECTOPIC_SPAN_READ),
                _NOT_PLACED,
            )
        ),
        Message.of(
            If(_yes(Col("observed")), Const("scan finding "), Const("ectopic pregnancy ")),
            _PLACE_MESSAGE,
        ),
    ),
    RowProblem("clinical", _ECTOPIC_MAY_BE_THIS, Message.of(ECTOPIC_MAY_BE_THIS_MESSAGE)),
    # an unread row names what was sent: a scan report, or a scan finding (an Observation)
    RowProblem(
        "clinical",
        And((_UNREAD_ROW, _NOT_PLACED)),
        Message.of(
            If(
                _UNREAD_FINDING,
                Const("scan finding that could not be read "),
                If(
                    _UNREAD_IMAGES,
                    Const("scan images with no report (ImagingStudy.started) "),
                    If(
                        _UNREAD_PROCEDURE,
                        Const("scan procedure with no result read (Procedure.performed[x]) "),
                        Const("scan report that could not be read "),
                    ),
                ),
            ),
            _PLACE_MESSAGE,
        ),
    ),
    RowProblem(
        "clinical",
        And(
            (
                _UNREAD_ROW,
                _THIS,
                Not(_is(Cmp("<=", _DAY, Ctx("read_location_on")), True)),
            )
        ),
        Message.of(
            If(
                _UNREAD_FINDING,
                Const("scan finding of "),
                If(
                    _UNREAD_IMAGES,
                    Const("scan images of "),
                    If(_UNREAD_PROCEDURE, Const("scan procedure of "), Const("scan report of ")),
                ),
            ),
            _DAY,
            If(
                _UNREAD_FINDING,
                Const(UNREAD_FINDING_MESSAGE),
                If(
                    _UNREAD_IMAGES,
                    Const(IMAGES_ONLY_MESSAGE),
                    If(
                        _UNREAD_PROCEDURE,
                        Const(LONE_PROCEDURE_MESSAGE),
                        Const(UNREAD_REPORT_MESSAGE),
                    ),
                ),
            ),
        ),
    ),
    # a record coded locally naming a loss (`_LOCALLY_CODED_ROWS`): named in this pregnancy (it
    # holds the decision back from its day) and when it cannot be placed, never before it
    RowProblem(
        "clinical",
        And((_LOCALLY_CODED_ROW, _THIS)),
        Message.of("record of ", _DAY, LOCALLY_CODED_MESSAGE),
    ),
    RowProblem(
        "clinical",
        And((_LOCALLY_CODED_ROW, _NOT_PLACED)),
        Message.of(LOCALLY_CODED_UNPLACED_MESSAGE, _PLACE_MESSAGE),
    ),
    RowProblem(
        "clinical",
        And((_is(Col("location"), "uncertain"), _THIS)),
        Message.of(
            "scan finding value is not present/absent; where the pregnancy is that day is taken "
            "as unknown"
        ),
    ),
    RowProblem(
        "clinical",
        And((_is(Col("location"), IUP_NOT_SEEN_LOCATION), _THIS)),
        Message.of(IUP_NOT_SEEN_MESSAGE),
    ),
    RowProblem(
        "clinical",
        And((_is(Col("location"), UNCONFIRMED_LOCATION), _THIS)),
        Message.of(UNCONFIRMED_MESSAGE),
    ),
    RowProblem(
        "scans",
        _yes(Col("heart_conflict")),
        Message.of(HEARTBEAT_CONFLICT_MESSAGE),
        ref=Message.of("scan of ", Col("day")),
    ),
    RowProblem(
        "scans",
        _yes(Col("route_conflict")),
        Message.of(ROUTE_CONFLICT_MESSAGE),
        ref=Message.of("scan of ", Col("day")),
    ),
    # a pregnancy test in a unit that is not compared (in the window: it counts as a sign)
    RowProblem(
        "clinical",
        And((Not(IsNull(Col("hcg_unit"))), _yes(_within_window(_DAY)))),
        Message.of(
            "hCG unit '",
            If(_is(Col("hcg_unit"), ""), Const("(none)"), Col("hcg_unit")),
            f"' is not IU/L or mIU/mL: not compared with {HCG_NEGATIVE_BELOW:g} IU/L, so read "
            "as not negative (a pregnancy)",
        ),
    ),
    # medicines
    *_medicine_problems("requests", _REQUEST_COUNTS),
    *_medicine_problems("statements", _STATEMENT_COUNTS),
    RowProblem(
        "requests", And((_REQUEST_UNSURE, _STATUS_UNKNOWN)), Message.of(_STATUS_UNKNOWN_MESSAGE)
    ),
    RowProblem(
        "statements", And((_STATEMENT_UNSURE, _STATUS_UNKNOWN)), Message.of(_STATUS_UNKNOWN_MESSAGE)
    ),
    RowProblem(
        "requests", And((_REQUEST_UNSURE, _STATUS_UNREAD)), Message.of(_STATUS_UNREAD_MESSAGE)
    ),
    RowProblem(
        "statements", And((_STATEMENT_UNSURE, _STATUS_UNREAD)), Message.of(_STATUS_UNREAD_MESSAGE)
    ),
    RowProblem(
        "statements",
        And(
            (
                _STATEMENT_COUNTS,
                _yes(Col("effective_undated")),
                Not(_is(Col("progesterone"), False)),
            )
        ),
        Message.of(
            "effective[x] has no full date: when she took it is unknown, so it is read as current"
        ),
    ),
    RowProblem(
        "requests",
        _yes(Col("dnp_unreadable")),
        Message.of(
            "doNotPerform is not true or false: not read as a prescription (if it may be "
            "progesterone, whether she is on progesterone is unknown)"
        ),
    ),
)

READING = EpisodeSpec(
    rows=(
        # an Observation's versions first: its rows read only the version of its id (stop 28)
        *_OBSERVATION_VERSIONS,
        # joining nothing: filled in the versions' first visit, joined by the Observation rows
        _PANEL_MEMBER_REFERENCES,
        # then the version of each scan report read (stop 27) and the results of an unfinished
        # report or panel, joined by an Observation's rows (stop 48)
        _REPORT_VERSIONS,
        _REPORT_TOPS,
        _REPORT_CHOSEN,
        *_UNFINISHED_RESULTS,
        # the studies a report read refers to, and the scan Procedures a study refers to, joined
        # by the study's rows (stop 52)
        _REPORTED_STUDIES,
        _SCAN_PROCEDURES,
        _CONDITION_ROWS,
        _OBSERVATION_ROWS,
        _PANEL_MEMBER_ROWS,
        _PROCEDURE_ROWS,
        _PROCEDURE_BY_REASON_ROWS,
        _MEDICATIONS,
        _REQUESTS,
        _STATEMENTS,
        # after the Medication's spec: the generated reading visits a type's specs together, in
        # the order of its first, and a request's spec joins the Medications read before it
        *_METHOTREXATE_ROWS,
        _ALLERGIES,
        _PATIENTS,
        *(_malformed(resource) for resource in _ELEMENT_TYPES),
        # scan reports (DiagnosticReport), their versions ranked above
        _REPORT_ROWS,
        _CONTAINED_FINDING_ROWS,
        *_REPORT_READS,  # joined by `_REPORT_MALFORMED`: read before it
        # last of the report's specs: the generated reading reads a spec joining a table its
        # own type fills in a second visit of the type, so its rows come after the others'
        _CONTAINED_MALFORMED,
        _REPORT_MALFORMED,
        _UNREAD_REPORT_ROWS,
        _IMAGES_ONLY_ROWS,
        _REPORT_ROUTE_ROWS,
        _PROCEDURE_ROUTE_ROWS,
        _LONE_PROCEDURE_ROWS,
        _UNREAD_FINDING_ROWS,
        _HELD_LOSS_ROWS,
        # after a type's own rows (an Observation's with its items read first, `shared_visit`)
        *_LOCALLY_CODED_ROWS,
    ),
    steps=_STEPS,
    problems=_PROBLEMS,
    own_record=("patients",),
    # the Observations' chosen versions: the ids sent more than once only (`read_of_chosen`)
    pairs_only=(_OBSERVATION_VERSIONING.chosen,),
)
