"""The flat cohort form: one row per episode, one scan per row, plus the care actually given.

Cell grammar (the same in the engine and in `parse_cell`): cells are trimmed and an empty cell
is Unknown; booleans are true/false, t/f, yes/no, y/n, 1/0 (any case); integers are decimal
digits with an optional sign; numbers are decimal (an exponent allowed; no NaN or infinity);
dates are YYYY-MM-DD.

Decisions about empty cells (so that every engine sees the same facts):

- ``miscarriage_diagnosed`` and ``on_progesterone``: empty means **false**, as in the episode
  contract (`earlypath.model.Episode` defaults both to false: a diagnosis or a prescription is
  what makes them true, and an extract has no row for what did not happen). The number of cells
  so defaulted is reported in the data-quality section. Both also take the word ``unknown``
  (any case): for ``on_progesterone`` she has a current medicine that cannot be identified, for
  ``miscarriage_diagnosed`` a miscarriage recorded with a month or a year only may fall in this
  pregnancy (the FHIR audit writes both), so the decision that depends on it needs information,
  as the service's does (unknown is never false).
- ``progesterone_prescribed`` (care given): empty is Unknown and has its own adherence category.
- the scan: with a ``scan_date`` the row has one scan (an empty ``scan_location`` is "unknown",
  an empty ``scan_route`` is "transvaginal", the contract's default); without one it has no scan,
  and any other scan cell filled in is a reject.
- the single scan is the latest scan and, when its CRL is above 0, the dating scan
  (``dating_crl_mm``, ``dating_scan_date``), exactly as `earlypath.facts.episode_facts` derives
  them from a one-scan episode; unless ``earlier_crl_mm`` (above 0) and ``earlier_crl_date``
  are given: the CRL of an earlier scan of this pregnancy (the earliest scan with a CRL above 0,
  as `episode_facts` picks the dating scan), which then dates the pregnancy. Both or neither, and
  the date before ``scan_date`` (each engine words the problem alike). The FHIR audit writes them
  (stop 44, issue 12: a CRL three days ago, an intrauterine pregnancy today and no LMP: the card
  dated her by that CRL and offered, the audit said "needs the LMP").
- ``crl_unverified`` true: the scan's CRL is on a result not known to be verified (the FHIR
  audit writes it for a `preliminary`/`unknown` Observation; stop 45, HAZ-20 C20.30). The CRL
  stays the scan's (viability reads it) but never dates her: the row's scan is then not the
  dating scan. Empty (or the column absent: older cohorts) is verified, the contract's default.

One scan per row is a limit of the flat form, not of the data: an episode with several scans
(from the FHIR mapping, say) keeps its latest in `episode_to_flat`, and of the earlier ones only
the dating CRL; whatever else only an earlier scan showed is lost on the way (the audit judges
progesterone alone, which reads no other fact of an earlier scan: a location seen before is
carried to the latest scan day by the reading itself).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Literal, get_args

from earlypath.errors import CellError  # defined with every error; flat.CellError still works

# a module of its own, outside `earlypath.model`: importing that package loads pydantic, which a
# warm audit never imports (tests/audit/test_duckdb_warm_start.py)
from earlypath.scan_location import location_now

FlatType = Literal["str", "date", "int", "float", "bool"]

# Column -> type. ``episode_id`` and ``assessed_on`` are required; the rest may be empty.
FLAT_COLUMNS: dict[str, FlatType] = {
    "episode_id": "str",
    "assessed_on": "date",
    "guideline_version": "str",
    "previous_miscarriages": "int",
    "vaginal_bleeding": "bool",
    "lmp": "date",
    "scan_date": "date",
    "scan_route": "str",
    "scan_location": "str",
    "fetal_pole": "bool",
    "fetal_heartbeat": "bool",
    # true: the scan's CRL is on a result not known to be verified (stop 45): it counts for
    # viability, never dates her; empty: verified (cohorts written before it still read)
    "crl_unverified": "bool",
    # the dating CRL when an earlier scan of this pregnancy measured it (see the docstring);
    # before the row's scan's measurements: `validate._measured_as_written` needs those last
    "earlier_crl_date": "date",
    "earlier_crl_mm": "float",
    "crl_mm": "float",
    "msd_mm": "float",
    "miscarriage_diagnosed": "bool",
    "on_progesterone": "bool",
    "allergies": "str",
    "progesterone_prescribed": "bool",
    "prescribed_on": "date",
}
REQUIRED = ("episode_id", "assessed_on")
# The names of the columns the audit adds to each row (its number, the results, working columns
# of the checks). A cohort column with one of them would be shadowed or silently renamed by the
# engines, so it is refused by name instead.
ADDED_COLUMNS = frozenset(
    {
        "row_number",
        "month",
        "gestation_days",
        "decision",
        "recommendations",
        "missing",
        "adherence",
        "reject_reason",
        "defaulted_false_cells",
        "dating_crl_mm",
        "dating_scan_date",
        "_assessed_on_absent",
        "_allergies_cell",
        "_unreadable",
        "_crl_mm_as_written",  # the measurements as written, for the checks' flag (validate.py)
        "_msd_mm_as_written",
        "_defaulted",
        "_outcome",  # the batch engine's decision slot (engines.ibis_compile.OutcomeSlots)
    }
)
ADDED_PREFIX = "_rule_"  # the batch engine's working columns: _rule_0, _rule_1, ...


def added_name_clashes(columns: list[str]) -> list[str]:
    """The cohort's columns whose names the audit uses for columns it adds (ignoring case, as
    DuckDB and Spark match column names)."""
    return [
        c for c in columns if c.casefold() in ADDED_COLUMNS or c.casefold().startswith(ADDED_PREFIX)
    ]


OPTIONAL_COLUMNS = ("guideline_version", "crl_unverified")
DEFAULT_FALSE = ("miscarriage_diagnosed", "on_progesterone")
# The word a cell of these columns may hold for Unknown (their empty cell means false).
UNKNOWN_WORD = "unknown"
SAYS_UNKNOWN = ("miscarriage_diagnosed", "on_progesterone")
# The route column's empty cell is the contract's transvaginal; "unknown" is a route not recorded
# (the FHIR audit writes it where the record names none: NG126 1.4.8/1.4.11 depend on it).
ROUTE_WORDS_UNKNOWN = ("scan_route",)
SCAN_FINDINGS = (
    "scan_route",
    "scan_location",
    "fetal_pole",
    "fetal_heartbeat",
    "crl_unverified",
    "crl_mm",
    "msd_mm",
)
# The problem of a row with scan findings but no scan date (worded alike by every engine).
FINDINGS_WITHOUT_SCAN_DATE = "is required when scan findings are given"
# The dating CRL of an earlier scan: its two cells, and their problems (worded alike by every
# engine; the CRL's range and the date's range and order against the LMP and the assessment are
# the contract's, on the scan the Python engine makes of them).
EARLIER_CRL = ("earlier_crl_date", "earlier_crl_mm")
EARLIER_CRL_DATE_NEEDED = "earlier_crl_date: is required when earlier_crl_mm is given"
EARLIER_CRL_MM_NEEDED = "earlier_crl_mm: is required when earlier_crl_date is given"
EARLIER_CRL_NOT_EARLIER = "earlier_crl_date: must be before scan_date"

# The characters trimmed from both ends of a text cell: those every engine's SQL TRIM is given
# (Python's own strip() would also remove other Unicode spaces, which the SQL engines keep).
EDGE_SPACE = " \t\n\r\x0b\x0c"
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
INT_PATTERN = r"^[+-]?[0-9]+$"
FLOAT_PATTERN = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
DATE_PATTERN = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"


def _from_contract(name: str) -> Any:
    """The words the contract accepts (`earlypath.model.Scan`) and its limit on one allergy,
    read from it, not written again."""
    from earlypath.model import episode

    if name == "MAX_ALLERGY_CHARS":
        return episode.MAX_ALLERGY_CHARS
    field = {"SCAN_ROUTES": "route", "SCAN_LOCATIONS": "location"}[name]
    annotation = episode.Scan.model_fields[field].annotation
    # the words of the Literal, also where it is optional (the route: None is not recorded)
    members = [a for a in get_args(annotation) if a is not type(None)]
    if len(members) == 1 and get_args(members[0]):
        return get_args(members[0])
    return tuple(members)


def __getattr__(name: str) -> Any:
    """``SCAN_ROUTES``, ``SCAN_LOCATIONS`` and ``MAX_ALLERGY_CHARS``, read from the contract when
    first asked for: importing it loads pydantic (0.1-0.2 s), which a DuckDB audit whose SQL is
    kept never needs (issue 16: start-up)."""
    if name in ("SCAN_ROUTES", "SCAN_LOCATIONS", "MAX_ALLERGY_CHARS"):
        value = _from_contract(name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MAX_INT = 2**62  # larger integers are rejected as unreadable on every engine


def parse_column_cell(name: str, value: Any) -> Any:
    """A cell of the flat column ``name``: `parse_cell` by the column's type, except the word
    ``unknown`` in a column that takes it (`SAYS_UNKNOWN`), kept as `UNKNOWN_WORD`."""
    if (
        name in (*SAYS_UNKNOWN, *ROUTE_WORDS_UNKNOWN)
        and isinstance(value, str)
        and value.strip(EDGE_SPACE).lower() == UNKNOWN_WORD
    ):
        return UNKNOWN_WORD
    return parse_cell(value, FLAT_COLUMNS[name])


def parse_cell(value: Any, kind: FlatType) -> Any:
    """One cell (text, or an already typed value from Parquet) -> a typed value or None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip(EDGE_SPACE)
        if not text:
            return None
        if kind == "str":
            return text
        if kind == "bool":
            low = text.lower()
            if low in TRUE_WORDS:
                return True
            if low in FALSE_WORDS:
                return False
            raise CellError("is not true or false")
        if kind == "int":
            if not re.match(INT_PATTERN, text) or abs(int(text)) > MAX_INT:
                raise CellError("is not a whole number")
            return int(text)
        if kind == "float":
            if not re.match(FLOAT_PATTERN, text):
                raise CellError("is not a number")
            number = float(text)
            if not math.isfinite(number):
                raise CellError("is not a number")
            return number
        if kind == "date":
            if not re.match(DATE_PATTERN, text):
                raise CellError("is not a date (YYYY-MM-DD)")
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise CellError("is not a date (YYYY-MM-DD)") from None
    if kind == "str" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a Parquet id column of whole numbers, as the SQL engines cast it
    if kind == "float" and isinstance(value, float) and not math.isfinite(value):
        raise CellError("is not a number")
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "date" and isinstance(value, dt.datetime):
        return value.date()
    return value


def flat_to_episode(row: dict[str, Any]) -> dict[str, Any]:
    """A typed flat row -> the episode mapping `earlypath.model.parse_episode` validates.

    Raises `CellError` (with the field in the message) for what only the flat form can get
    wrong: scan findings without a scan date.
    """
    scans: list[dict[str, Any]] = []
    if row.get("scan_date") is not None:
        scan: dict[str, Any] = {
            "date": row["scan_date"],
            # empty: the contract's transvaginal; "unknown" (a record that names no route): None
            "route": (
                None
                if row.get("scan_route") == UNKNOWN_WORD
                else row.get("scan_route") or "transvaginal"
            ),
            "location": row.get("scan_location") or "unknown",
        }
        for name in ("fetal_pole", "fetal_heartbeat", "crl_mm", "msd_mm"):
            if row.get(name) is not None:
                scan[name] = row[name]
        if row.get("crl_unverified"):
            scan["crl_verified"] = False
        scans.append(scan)
    else:
        if any(row.get(name) is not None for name in SCAN_FINDINGS):
            raise CellError(f"scan_date: {FINDINGS_WITHOUT_SCAN_DATE}")
    earlier = earlier_crl_scan(row)
    if earlier is not None:
        # after the row's scan: the contract's problems name it scans[1] (`pass_python`), and
        # being earlier it is never the latest
        scans.append(earlier)
    allergies = [
        a.strip(EDGE_SPACE) for a in (row.get("allergies") or "").split(";") if a.strip(EDGE_SPACE)
    ]
    episode: dict[str, Any] = {
        "assessed_on": row["assessed_on"],
        "previous_miscarriages": row.get("previous_miscarriages"),
        "vaginal_bleeding": row.get("vaginal_bleeding"),
        "lmp": row.get("lmp"),
        "scans": scans,
        "miscarriage_diagnosed": (
            None
            if row.get("miscarriage_diagnosed") == UNKNOWN_WORD
            else bool(row.get("miscarriage_diagnosed") or False)
        ),
        "on_progesterone": (
            None
            if row.get("on_progesterone") == UNKNOWN_WORD
            else bool(row.get("on_progesterone") or False)
        ),
        "allergies": allergies,
    }
    if row.get("guideline_version") is not None:
        episode["guideline_version"] = row["guideline_version"]
    return episode


def earlier_crl_problems(row: dict[str, Any]) -> list[str]:
    """The problems of a typed row's two ``earlier_crl_*`` cells, in the order every engine
    gives them: one without the other, a date not before the scan's (or with no scan)."""
    day, mm = (row.get(name) for name in EARLIER_CRL)
    problems = []
    if mm is not None and day is None:
        problems.append(EARLIER_CRL_DATE_NEEDED)
    if day is not None and mm is None:
        problems.append(EARLIER_CRL_MM_NEEDED)
    if day is not None and (row.get("scan_date") is None or day >= row["scan_date"]):
        problems.append(EARLIER_CRL_NOT_EARLIER)
    return problems


def earlier_crl_scan(row: dict[str, Any]) -> dict[str, Any] | None:
    """The earlier dating scan of a typed row, as the contract's scan (a CRL shows a fetal pole;
    where it was seen and the route are not carried); None without one. Raises `CellError` for
    `earlier_crl_problems`."""
    problems = earlier_crl_problems(row)
    if problems:
        raise CellError("; ".join(problems))
    day, mm = (row.get(name) for name in EARLIER_CRL)
    if day is None:
        return None
    return {"date": day, "route": None, "location": "unknown", "fetal_pole": True, "crl_mm": mm}


def dating_scan(scans: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The scan that dates the pregnancy, as `earlypath.facts.episode_facts` picks it: the
    earliest with a verified CRL above 0, the first in the list on a tie."""
    dating = None
    for scan in scans:
        crl = scan.get("crl_mm")
        if (
            crl is not None
            and crl > 0
            and scan.get("crl_verified", True)
            and (dating is None or _scan_date(scan) < _scan_date(dating))
        ):
            dating = scan
    return dating


def _latest_scan(scans: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest scan by date; on a tie the later in the list (as `Episode.latest_scan`)."""
    latest = None
    for scan in scans:
        if latest is None or _scan_date(scan) >= _scan_date(latest):
            latest = scan
    return latest


def _as_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _scan_date(scan: dict[str, Any]) -> dt.date:
    """A scan's date, which the episode contract requires (`Scan.date`)."""
    date = _as_date(scan.get("date"))
    if date is None:
        raise CellError("scans[].date: is missing (a scan needs its date)")
    return date


def episode_to_flat(episode: dict[str, Any]) -> dict[str, Any]:
    """An episode mapping (e.g. ``map_resources(...).episode``) -> the typed flat cells it fills.

    The reference for what a flat row carries of an episode. The row has room for one scan: the
    latest by date (on a tie, the later in the list), the scan the engine reads as the pregnancy
    now (`earlypath.model.Episode.latest_scan`); of the others only the dating CRL is kept, when
    an earlier scan measured it (`dating_scan`); the rest are dropped (see the module's
    docstring). Allergies are joined with "; ". Dates come back as `datetime.date`, absent facts
    as None; ``episode_id``, ``guideline_version`` and the care given are not the episode's.
    """
    scan = _latest_scan(list(episode.get("scans") or []))
    dating = dating_scan(list(episode.get("scans") or []))
    # the dating CRL of an earlier scan (the latest's own is its crl_mm)
    if dating is None or scan is None or _scan_date(dating) >= _scan_date(scan):
        dating = None
    allergies = [str(a) for a in episode.get("allergies") or []]
    return {
        "assessed_on": _as_date(episode["assessed_on"]),
        "previous_miscarriages": episode.get("previous_miscarriages"),
        "vaginal_bleeding": episode.get("vaginal_bleeding"),
        "lmp": _as_date(episode.get("lmp")),
        "scan_date": _as_date(scan["date"]) if scan else None,
        "scan_route": (
            UNKNOWN_WORD
            if scan and "route" in scan and scan["route"] is None
            else (scan.get("route") if scan else None)
        ),
        # the latest scan's, but an ectopic seen before an unread report stands (`location_now`)
        "scan_location": (
            location_now([(_scan_date(s), s.get("location")) for s in episode.get("scans") or []])
            if scan
            else None
        ),
        "fetal_pole": scan.get("fetal_pole") if scan else None,
        "fetal_heartbeat": scan.get("fetal_heartbeat") if scan else None,
        "crl_unverified": True if scan and scan.get("crl_verified") is False else None,
        "earlier_crl_date": _scan_date(dating) if dating else None,
        "earlier_crl_mm": dating.get("crl_mm") if dating else None,
        "crl_mm": scan.get("crl_mm") if scan else None,
        "msd_mm": scan.get("msd_mm") if scan else None,
        "miscarriage_diagnosed": (
            UNKNOWN_WORD
            if "miscarriage_diagnosed" in episode and episode["miscarriage_diagnosed"] is None
            else bool(episode.get("miscarriage_diagnosed") or False)
        ),
        "on_progesterone": (
            UNKNOWN_WORD
            if "on_progesterone" in episode and episode["on_progesterone"] is None
            else bool(episode.get("on_progesterone") or False)
        ),
        "allergies": "; ".join(allergies) if allergies else None,
    }
