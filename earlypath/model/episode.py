"""The episode: the facts of one presentation of one woman, as of ``assessed_on``.

Field names are part of the public contract (the CLI, the JSON API, CDS Hooks mapping and the
audit's flat columns all use them). ``None`` always means *unknown*, never *no*.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from math import isfinite
from typing import Annotated, Any, Literal, cast

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, SchemaValidator

from earlypath.errors import InputError, Problem
from earlypath.model.checks import MAX_LMP_WEEKS_BEFORE as MAX_LMP_WEEKS_BEFORE
from earlypath.model.checks import broken_checks, refuse_broken
from earlypath.model.json_only import json_only_validator

MAX_MEASUREMENT_MM = 120.0
MAX_PREVIOUS_MISCARRIAGES = 50
MAX_ALLERGY_CHARS = 200  # one recorded allergy
MAX_ADNEXAL_MASS_MM = 200.0
# Serum hCG peaks near 100,000-200,000 IU/L; a value above this is a unit or typing error.
MAX_HCG_IU_PER_L = 1_000_000.0

# The dates the contract accepts. The plan's arithmetic counts days forward (the stop date) and
# back (a gestation from an old scan) and must stay inside the calendar every engine handles
# (Python's ends at 9999-12-31); a century each side of today is far wider than any real care.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
DATE_RANGE_MESSAGE = (
    f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()} "
    "(the range earlypath's date arithmetic handles)"
)

# Utrogestan and Prometrium contain soya lecithin: a peanut or soya allergy rules them out.
PEANUT_OR_SOYA_WORDS = ("peanut", "groundnut", "arachis", "soya", "soy", "soja")


# Text pydantic would read as a number of seconds since 1970 ("1709510400", "0", "1.5e9" is not).
_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?")


def _date_only(value: Any) -> Any:
    # pydantic's lax mode would read a number, or text of one, as a Unix timestamp
    # ("1709510400" as 2024-03-04, "0" as 1970-01-01): a silent guess we refuse.
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and _NUMBER_TEXT.fullmatch(value)
    ):
        raise PydanticCustomError("date_type", "must be a date written as YYYY-MM-DD")
    return value


def _date_in_range(value: dt.date) -> dt.date:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise PydanticCustomError("date_range", DATE_RANGE_MESSAGE)
    return value


def _number_only(value: Any) -> Any:
    # pydantic's lax mode would read true/false as 1.0/0.0 and "9.5" as 9.5: a number must be a number.
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "must be a number, not true or false")
    if isinstance(value, str):
        raise PydanticCustomError("float_type", "must be a number, not text")
    return value


Date = Annotated[dt.date, BeforeValidator(_date_only), AfterValidator(_date_in_range)]
DateTime = Annotated[dt.datetime, BeforeValidator(_date_only), AfterValidator(_date_in_range)]
Millimetres = Annotated[
    float, BeforeValidator(_number_only), Field(ge=0, le=MAX_MEASUREMENT_MM, allow_inf_nan=False)
]


class Scan(BaseModel):
    """One ultrasound scan. The latest scan (by date, then by list order) describes the pregnancy now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: Date
    # Left out: transvaginal (NG126's first choice). None: not recorded (a FHIR record that names
    # no route), Unknown to the rules, which then name no 1.4.x step.
    route: Literal["transvaginal", "transabdominal"] | None = "transvaginal"
    # "report_not_read": a scan was done that day but its report could not be read (findings
    # only as free text or a PDF, or none of its coded findings is one earlypath reads). It is
    # a value of its own, not "unknown": "unknown" is a pregnancy of unknown location (NG126
    # 1.4: serum hCG 48 hours apart), which an unread report may not be. A value of the one
    # location field, rather than a field beside it, is the smallest change every engine
    # carries: the flat audit's `scan_location` column, its validation (the values are read
    # from this Literal) and the rules' `Match`es take it as they take the others, and the
    # latest scan's date names the report to read.
    location: Literal["intrauterine", "ectopic", "unknown", "report_not_read"] = Field(
        description=(
            "Where the scan showed the pregnancy. 'unknown': a pregnancy of unknown location "
            "(the scan did not find it). 'report_not_read': a scan was done that day but its "
            "report could not be read (not a pregnancy of unknown location: the sections ask "
            "for the report to be read)."
        )
    )
    fetal_pole: StrictBool | None = None
    fetal_heartbeat: StrictBool | None = None
    crl_mm: Millimetres | None = None
    # False: the CRL is on a result not known to be verified (a FHIR Observation `preliminary` or
    # `unknown`, stop 45). It does not date the pregnancy (`earlypath.facts`); ``crl_mm`` still
    # counts for viability (7 mm or more with no heartbeat). Left out: verified.
    crl_verified: StrictBool = True
    msd_mm: Millimetres | None = None


class HcgSample(BaseModel):
    """One serum hCG result. ``taken_at`` is when the blood was taken (not when it was reported)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    taken_at: DateTime
    iu_per_l: Annotated[
        float,
        BeforeValidator(_number_only),
        Field(ge=0, le=MAX_HCG_IU_PER_L, allow_inf_nan=False),
    ]


class Episode(BaseModel):
    """The input contract for one assessment."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "assessed_on": "2024-03-04",
                    "previous_miscarriages": 1,
                    "vaginal_bleeding": True,
                    "lmp": "2024-01-15",
                    "scans": [
                        {
                            "date": "2024-03-04",
                            "location": "intrauterine",
                            "fetal_pole": True,
                            "fetal_heartbeat": True,
                            "crl_mm": 9.5,
                        }
                    ],
                }
            ]
        },
    )

    assessed_on: Date = Field(
        description="The day of the assessment; the facts are as of this day."
    )
    guideline_version: str | None = Field(
        None,
        description="NG126 version to apply (e.g. '2021-11-24'); default: the one in force on assessed_on.",
    )
    previous_miscarriages: (
        Annotated[StrictInt, Field(ge=0, le=MAX_PREVIOUS_MISCARRIAGES)] | None
    ) = Field(None, description="Number of previous miscarriages; null or absent = unknown.")
    vaginal_bleeding: StrictBool | None = Field(
        None, description="Vaginal bleeding in this pregnancy at this presentation; null = unknown."
    )
    lmp: Date | None = Field(None, description="First day of the last menstrual period.")
    scans: list[Scan] = Field(default_factory=list)
    miscarriage_diagnosed: StrictBool | None = Field(
        False,
        description="A miscarriage has been diagnosed in this pregnancy; null = unknown (e.g. a "
        "miscarriage recorded with a month or a year only that may fall in this pregnancy); "
        "false (the default) = none diagnosed.",
    )
    second_opinion_no_heartbeat: StrictBool = Field(
        False,
        description="A second opinion on viability agreed there is no heartbeat on the latest scan "
        "(NG126 1.4.7 and 1.4.10: enough on a transvaginal scan with a CRL of 7.0 mm or more, or an "
        "MSD of 25.0 mm or more); false (the default) = not obtained.",
    )
    on_progesterone: StrictBool | None = Field(
        False,
        description="Already taking progesterone; null = unknown (e.g. a current prescription "
        "whose medicine cannot be identified); false (the default) = not taking it.",
    )
    on_recommended_progesterone: StrictBool | None = Field(
        None,
        description="When she is already taking progesterone: it is the product NG126 1.5.2 "
        "recommends (vaginal micronised progesterone 400 mg twice daily); false = another route, "
        "dose or frequency; null (the default) = not known (e.g. her prescription gives no route "
        "or dose).",
    )
    on_other_progestogen: StrictBool = Field(
        False,
        description="A current medicine of hers is a progestogen that is not progesterone "
        "(dydrogesterone, hydroxyprogesterone caproate, norethisterone, medroxyprogesterone): not "
        "NG126 1.5.2's vaginal micronised progesterone, so whether to offer progesterone beside "
        "it needs a clinician's review; false (the default) = none recorded.",
    )
    allergies: list[Annotated[str, Field(min_length=1, max_length=MAX_ALLERGY_CHARS)]] = Field(
        default_factory=list, description="Recorded allergies; 'peanut' and 'soya' are recognised."
    )
    # The pathway around the progesterone decision (scans, hCG, ectopic, miscarriage, anti-D).
    hcg: list[HcgSample] = Field(
        default_factory=list, description="Serum hCG results (IU/L), with the time each was taken."
    )
    pain: Literal["none", "mild", "significant"] | None = Field(
        None, description="Abdominal or pelvic pain now; null = unknown."
    )
    haemodynamically_unstable: StrictBool | None = Field(
        None, description="True if haemodynamically unstable; null = not assessed."
    )
    heavy_bleeding: StrictBool | None = Field(
        None,
        description="Significant concern about the degree of bleeding (NG126 1.3: refer directly "
        "to A&E); null = not assessed.",
    )
    previous_ectopic: StrictBool | None = Field(
        None,
        description="A previous ectopic pregnancy (a risk factor: NG126 1.3 rules out community "
        "management); null = unknown.",
    )
    ectopic_ruptured: StrictBool | None = Field(
        None,
        description="The ectopic pregnancy has ruptured (methotrexate needs an unruptured ectopic, "
        "NG126 1.6); null = unknown.",
    )
    rhesus_d: Literal["negative", "positive"] | None = Field(
        None, description="RhD blood group; null = unknown."
    )
    adnexal_mass_mm: (
        Annotated[
            float,
            BeforeValidator(_number_only),
            Field(ge=0, le=MAX_ADNEXAL_MASS_MM, allow_inf_nan=False),
        ]
        | None
    ) = Field(None, description="Size of an ectopic adnexal mass on scan (mm); null = unknown.")
    able_to_return_for_follow_up: StrictBool | None = Field(
        None,
        description="Whether she can return for follow-up (ectopic management); null = unknown.",
    )
    miscarriage_type: Literal["missed", "incomplete", "complete"] | None = Field(
        None, description="Type of the diagnosed miscarriage; null = unknown or none diagnosed."
    )
    management: Literal["expectant", "medical", "surgical"] | None = Field(
        None,
        description="Management chosen for a miscarriage or ectopic pregnancy; null = not chosen yet.",
    )

    @model_validator(mode="after")
    def _cross_field_checks(self) -> Episode:
        # The checks are written once, in `earlypath.model.checks`, and also compiled into the
        # audit's SQL (`earlypath.audit.validate`).
        # __pydantic_fields__: what model_fields returns, without its property's cost.
        broken = broken_checks(self, type(self).__pydantic_fields__)
        if broken:  # (most episodes break none: no list made for them)
            errors = [
                InitErrorDetails(
                    type=PydanticCustomError("impossible_value", message), loc=loc, input=value
                )
                for loc, message, value in broken
            ]
            raise ValidationError.from_exception_data("Episode", errors)
        return self

    @property
    def latest_scan(self) -> Scan | None:
        """The scan that describes the pregnancy now: latest date; on a tie, the later in the list."""
        scans = self.scans  # read once: a model's attribute is a slow lookup
        if not scans:
            return None
        best = scans[0]
        for scan in scans[1:]:
            if scan.date >= best.date:
                best = scan
        return best

    @property
    def peanut_or_soya_allergy(self) -> bool:
        return _peanut_or_soya(tuple(self.allergies))


# Characters removed before allergy words are matched: format characters (zero-width spaces and
# joiners, soft hyphen, byte-order mark), control characters, and combining marks (so "péanut"
# written with an accent still reads as peanut: a false match only chooses a soya-free product).
_DROPPED_CATEGORIES = frozenset({"Cf", "Cc", "Mn", "Me"})


# Letters that NFKC leaves alone but that read as Latin ones: Cyrillic and Greek lookalikes
# ("реаnut" typed with a Cyrillic keyboard layout) and Latin small capitals. Capitals are read
# before case-folding (a Greek capital nu looks like N, its small letter like v).
_CAPITAL_LOOKALIKES = str.maketrans("АВЕКМНОРСТХЅІЈΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEKMHOPCTXSIJABEZHIKMNOPTYX")
_SMALL_LOOKALIKES = str.maketrans(
    "аеорсухѕіјһԁԛԝӏɡαικνορυᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ",
    "aeopcyxsijhdqwlgaikvopuabcdefghijklmnoprstuvwyz",
)
# The longer words are also found with separators inside them ("pea nut", "ground-nut"); the
# short ones are not, as "also yams" would then read as soya.
_WORDS_FOUND_SPLIT = tuple(word for word in PEANUT_OR_SOYA_WORDS if len(word) >= 6)


def normalise_allergy_text(text: str) -> str:
    """Allergy text as it is matched: NFKC (fullwidth "Ｐｅａｎｕｔ" -> "Peanut"), case-folded,
    with invisible, control and combining characters removed and Cyrillic, Greek and small
    capital lookalikes read as Latin letters. Used for matching only; the recorded text is shown
    as it was written."""
    latin = unicodedata.normalize("NFKC", text).translate(_CAPITAL_LOOKALIKES)
    folded = unicodedata.normalize("NFKD", latin.casefold())
    kept = "".join(c for c in folded if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    return unicodedata.normalize("NFKC", kept).translate(_SMALL_LOOKALIKES)


def mentions_peanut_or_soya(allergies: list[str]) -> bool:
    """Whether any recorded allergy names peanut or soya (after `normalise_allergy_text`).

    A false match only chooses a soya-free product; a missed one could choose a product she
    reacts to, so the longer words are looked for in the letters alone too.
    """
    for allergy in allergies:
        text = normalise_allergy_text(allergy)
        if any(word in text for word in PEANUT_OR_SOYA_WORDS):
            return True
        letters = "".join(c for c in text if c.isalpha())
        if any(word in letters for word in _WORDS_FOUND_SPLIT):
            return True
    return False


# `mentions_peanut_or_soya` by the recorded allergies: the same few lists come again and again,
# and normalising the text costs more than the rest of a plan. Bounded; kept in memory only.
_PEANUT_OR_SOYA_BY_ALLERGIES: dict[tuple[str, ...], bool] = {}


def _peanut_or_soya(allergies: tuple[str, ...]) -> bool:
    known = _PEANUT_OR_SOYA_BY_ALLERGIES.get(allergies)
    if known is None:
        if len(_PEANUT_OR_SOYA_BY_ALLERGIES) >= 4096:
            _PEANUT_OR_SOYA_BY_ALLERGIES.clear()
        known = _PEANUT_OR_SOYA_BY_ALLERGIES[allergies] = mentions_peanut_or_soya(list(allergies))
    return known


def _field_path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(episode)"


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "is not a field of the episode contract (misspelt?)"
    if kind == "missing":
        return "is required"
    return str(error["msg"]).removeprefix("Value error, ")


def problems_from(error: ValidationError) -> list[Problem]:
    """Turn pydantic's errors into `Problem`s that name the field as a path."""
    return [Problem(_field_path(e["loc"]), _message(e)) for e in error.errors(include_url=False)]


def parse_episode(data: Any) -> Episode:
    """Validate a mapping (parsed JSON) into an `Episode`, or raise `InputError`.

    A dict of plain JSON values (what the CDS service's record reading and a parsed request
    give) is read by the JSON-only validator from orjson's text of it (`parse_episode_json`'s
    first step: no call into Python per date or number); where it refuses, or the dict holds
    anything its JSON text would not say as it is (a date object, NaN, a subclass, ...), the
    model's validator answers (`parse_episode_reference`): the same episode, the same errors."""
    if not isinstance(data, dict):
        raise InputError([Problem("(episode)", "must be a JSON object")])
    text = _plain_json_text(data)
    if text is not None:
        try:
            return _json_only().validate_json(text)
        except ValidationError:
            pass
    return parse_episode_reference(data)


def parse_episode_reference(data: Any) -> Episode:
    """`parse_episode` by the model's own validator alone (the reference)."""
    if not isinstance(data, dict):
        raise InputError([Problem("(episode)", "must be a JSON object")])
    try:
        return Episode.model_validate(data)
    except ValidationError as error:
        raise InputError(problems_from(error)) from None


# a set, not a tuple: one hashed look-up per value where a tuple compares type after type
_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> bool:
    """Is ``value`` made of plain JSON values only, each of exactly its JSON type (text, a whole
    number, a finite float, true/false, null, a list, a dict with text keys)? Those are the
    values whose JSON text reads back as themselves (orjson writes NaN and infinity as null,
    and a date or a subclass of str in its own way). Loops, not generators: this runs on every
    episode the service decides."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            of = type(item)
            if of in _SCALARS:
                continue
            if of is float:
                if not isfinite(item):
                    return False
            elif not _plain(item):
                return False
        return True
    if kind is list:
        for item in value:
            of = type(item)
            if of in _SCALARS:
                continue
            if of is float:
                if not isfinite(item):
                    return False
            elif not _plain(item):
                return False
        return True
    if kind in _SCALARS:
        return True
    return kind is float and isfinite(value)


def _plain_json_text(data: dict[str, Any]) -> bytes | None:
    """orjson's text of ``data`` when it says exactly what ``data`` holds, else None."""
    if not _plain(data):
        return None
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, a lone surrogate
        return None


def parse_episode_json(text: str | bytes) -> Episode:
    """Validate JSON text into an `Episode`, or raise `InputError`.

    Read first by the JSON-only validator (`earlypath.model.json_only`: the model's schema with
    strict dates and numbers in place of `_date_only` and `_number_only`, and a date's range as
    bounds in place of `_date_in_range`: no call into Python per value; the cross-field checks
    by `refuse_broken`, which refuses wherever one breaks); where it refuses, by the model itself
    (`parse_episode_json_reference`), whose answer and errors are then the answer."""
    try:
        return _json_only().validate_json(text)
    except ValidationError:
        return parse_episode_json_reference(text)


def parse_episode_json_reference(text: str | bytes) -> Episode:
    """`parse_episode_json` by the model's own validator alone (the reference)."""
    try:
        return Episode.model_validate_json(text)
    except ValidationError as error:
        problems = problems_from(error)
        if any(p.message.startswith("Invalid JSON") for p in problems):
            raise InputError([Problem("(episode)", "is not valid JSON")]) from None
        raise InputError(problems) from None


_JSON_ONLY: list[SchemaValidator] = []  # made on first use


def _json_only() -> SchemaValidator:
    if not _JSON_ONLY:
        _JSON_ONLY.append(
            json_only_validator(
                Episode,
                frozenset({_date_only, _number_only}),
                {_date_in_range: (EARLIEST_DATE, LATEST_DATE)},
                # the checks without `broken_checks`' layers: a refusal where one breaks
                # (on the built class the attribute is the plain function the core schema
                # holds; mypy sees pydantic's decorator proxy)
                {cast(Callable[..., Any], Episode._cross_field_checks): refuse_broken},
            )
        )
    return _JSON_ONLY[0]


def episode_json_schema() -> dict[str, Any]:
    """The JSON Schema of the input contract."""
    schema = Episode.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "earlypath episode"
    return schema
