"""Read a FHIR R4 bulk export into the flat cohort on any ibis backend (DuckDB or Spark).

The same reading as `earlypath.audit.fhir_flat` (see its docstring for what each cell means),
but with nothing written in one database's SQL: the facts of each encounter come from the one
definition of record reading (`AUDIT_READING`, compiled by `earlypath.records.ibis_compile`),
and the audit's own parts are written once here, for every backend:

- what is read of the Encounter (its id, patient, day, site, own type) and of the Patient
  (gender, birth date, ethnicity, deprivation) as row specs of the records IR (`AUDIT_ROWS`),
  so each resource file is parsed by the compiled loader of the backend, once;
- the encounter's number (its line in the Encounter files, in file order: ``n``), the Patient
  taken for an id (the first of that id), the flat row's text cells, the age band and why an
  encounter is not an episode (`earlypath.fhir.pregnancy`), as ibis expressions.

`read_fhir_export` is the Spark audit's reading (`earlypath.audit.load`); on DuckDB it gives the
rows `flatten_fhir_duckdb` (below) gives, as the DuckDB audit's view.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir_t

from earlypath.audit import flat
from earlypath.audit.fhir_files import ExportFiles, discover_export
from earlypath.audit.fhir_flat import (
    AUDIT_READING,
    ETHNICITY_EXTENSION,
    IMD_EXTENSION,
    PRESCRIPTIONS,
    RESOURCES,
    FhirReading,
)
from earlypath.audit.reading_passes import reading_passes_off
from earlypath.audit.untied_care import count_untied_care
from earlypath.fhir.codes import code_set
from earlypath.fhir.pregnancy import EXCLUDED_MALE, EXCLUDED_NOT_PREGNANT
from earlypath.records.definition import (
    IDENTIFIED_SUBJECTS,
    IDENTIFIER_TIES,
    PATIENT_IDENTIFIERS,
    PATIENT_LINKS,
)
from earlypath.records.duckdb_tables import compiled_sql
from earlypath.records.ibis_compile import (
    OtherTypeLines,
    compile_rows,
    drop_input,
    load_resources,
    materializer,
    run_records,
)
from earlypath.records.identifiers import (
    NHS_NUMBER_NOT_VALID,
    NOT_CARRIED,
    ON_TWO_PATIENTS,
    WITHOUT_SYSTEM_OR_VALUE,
    Ties,
)
from earlypath.records.ir import (
    AnyItem,
    Day,
    EpisodeSpec,
    Field,
    FirstItem,
    Left,
    OneOf,
    RefId,
    RowSpec,
    TextInSet,
)
from earlypath.records.kept_count import count_rows, counted_joined_tables
from earlypath.records.merges import Merges, resolve
from earlypath.records.women import Women
from earlypath.rules.ir import And, Cmp, Const, Expr, Or

__all__ = [
    "AUDIT_ROWS",
    "FLATTEN_MEMORY_BASE_MIB",
    "FLATTEN_MEMORY_PER_THREAD_MIB",
    "capped_memory",
    "flat_table",
    "flatten_memory_limit",
    "read_fhir_export",
    "refuse_unreadable_lines_spark",
]


def _coding_in_set(value_set: str) -> Expr:
    """A CodeableConcept (the list item being read) matches the value set as `InSet` does: a
    coding's system|code is listed, or one of the set's words is in its text or a display.
    (`InSet` reads a concept at a path; an Encounter's types are concepts as list items.)"""
    codes = code_set(value_set)
    systems = sorted({system for system, _ in codes.codes})
    by_system = tuple(
        And(
            (
                Cmp("==", Field("system", "str"), Const(system)),
                OneOf(
                    Field("code", "str"), tuple(sorted(c for s, c in codes.codes if s == system))
                ),
            )
        )
        for system in systems
    )
    tests: list[Expr] = [AnyItem("coding", Or(by_system))] if by_system else []
    if codes.words:
        tests.append(TextInSet(Field("text", "str"), value_set))
        tests.append(AnyItem("coding", TextInSet(Field("display", "str"), value_set)))
    return Or(tuple(tests)) if tests else Const(False)


def _extension(url: str, value: Expr) -> Expr:
    """``value`` of the Patient's first extension with this url."""
    return FirstItem("extension", Cmp("==", Field("url", "str"), Const(url)), value)


_START = Field("period.start", "str")
AUDIT_ROWS = EpisodeSpec(
    rows=(
        RowSpec.every(
            "audit_encounters",
            "Encounter",
            RefId(Field("subject.reference", "str"), "Patient"),
            (
                ("episode_id", Field("id", "str")),
                ("assessed_text", Left(_START, 10)),
                ("assessed_on", Day(_START)),
                ("provider", Field("serviceProvider.reference", "str")),
                ("pregnancy_visit", AnyItem("type", _coding_in_set("pregnancy_encounter_type"))),
            ),
        ),
        RowSpec.every(
            "audit_patients",
            "Patient",
            Field("id", "str"),
            (
                ("gender", Field("gender", "str")),
                ("birth", Day(Field("birthDate", "str"))),
                (
                    "eth_display",
                    _extension(
                        ETHNICITY_EXTENSION,
                        FirstItem(
                            "valueCodeableConcept.coding", Const(True), Field("display", "str")
                        ),
                    ),
                ),
                (
                    "eth_text",
                    _extension(ETHNICITY_EXTENSION, Field("valueCodeableConcept.text", "str")),
                ),
                ("imd", _extension(IMD_EXTENSION, Field("valueInteger", "num"))),
            ),
        ),
        PATIENT_LINKS,
    ),
    steps=(),
)
# What each resource file is read for: the definition's facts, the audit's own cells, and the
# identifiers that tie a resource naming her by one only (compiled on need: `identifier_ties`)
_LOADED = EpisodeSpec(AUDIT_READING.rows + AUDIT_ROWS.rows + IDENTIFIER_TIES.rows, (), ())
_NAMED = EpisodeSpec(IDENTIFIED_SUBJECTS, ())
_CARRIED = EpisodeSpec((PATIENT_IDENTIFIERS,), ())

_AGE_BANDS = ((20, "<20"), (25, "20-24"), (30, "25-29"), (35, "30-34"), (40, "35-39"))


def _age_band(birth: ir_t.DateValue, day: ir_t.DateValue) -> ir_t.StringValue:
    # whole calendar years between the two (year boundaries crossed), as the flat audit counts
    years = day.year() - birth.year()
    band = ibis.cases(*((years < limit, band) for limit, band in _AGE_BANDS), else_="40+")
    return ibis.ifelse(birth.isnull() | day.isnull(), ibis.null("string"), band)


def _text(value: ir_t.Value) -> ir_t.StringValue:
    return value.cast("string")


def flat_table(
    encounters: ir_t.Table, patients: ir_t.Table, episodes: ir_t.Table, has_requests: bool
) -> ir_t.Table:
    """Every encounter's flat row (text cells as a CSV gives them; NULL = Unknown) with
    ``exclusion``, why it is not an episode: a man's, or one with no evidence of a current
    pregnancy as of its day. An encounter with no day (or no patient) cannot be placed: it stays
    in, to be rejected or judged as it is."""
    first = patients.mutate(
        _rank=ibis.row_number().over(group_by=patients["patient"], order_by=patients["n"])
    )
    pt = first.filter(first["_rank"] == 0)
    pt = pt.select(pt["patient"].name("_pid"), "gender", "birth", "eth_display", "eth_text", "imd")
    e = encounters.select(
        encounters["n"].name("row_number"),
        "episode_id",
        "patient",
        "assessed_text",
        encounters["assessed_on"].name("e_day"),
        "provider",
        "pregnancy_visit",
    )
    j = e.left_join(episodes, e["row_number"] == episodes["_key"]).left_join(
        pt, e["patient"] == pt["_pid"]
    )
    # without the export's prescriptions, only care shown given is known (`fhir_flat`)
    given = j["prescribed"].fill_null(False)
    prescribed = given if has_requests else ibis.ifelse(given, True, ibis.null("boolean"))
    # a record made here that may be progesterone but cannot say it was given: Unknown (fhir_flat)
    prescribed = ibis.ifelse(
        j["prescribed_unknown"].fill_null(False), ibis.null("boolean"), prescribed
    )
    pregnant = (
        j["pregnancy_visit"].fill_null(False)
        | j["lmp"].notnull()
        | (j["pregnancy_signs"].length() > 0).fill_null(False)
    )
    exclusion = ibis.cases(
        ((j["gender"] == "male").fill_null(False), EXCLUDED_MALE),
        (j["e_day"].isnull() | j["patient"].isnull(), ibis.null("string")),
        (pregnant, ibis.null("string")),
        else_=EXCLUDED_NOT_PREGNANT,
    )
    return j.select(
        row_number=j["row_number"],
        episode_id=j["episode_id"],
        # the day its start falls on where the care happened (an instant in the configured time
        # zone: `earlypath.records.time_zone`), the day every finding is placed against; a start
        # with no full date as written, for the validation to name
        assessed_on=ibis.ifelse(j["e_day"].notnull(), _text(j["e_day"]), j["assessed_text"]),
        previous_miscarriages=_text(j["previous_miscarriages"]),
        vaginal_bleeding=_text(j["vaginal_bleeding"]),
        lmp=_text(j["lmp"]),
        scan_date=_text(j["scan_date"]),
        # the route the record names; a scan with none is "unknown", not the flat form's empty
        # cell (transvaginal): NG126 1.4.8/1.4.11 ask 14 days of a transabdominal scan
        scan_route=ibis.ifelse(
            j["scan_date"].notnull() & j["scan_route"].isnull(),
            ibis.literal(flat.UNKNOWN_WORD),
            j["scan_route"],
        ),
        scan_location=j["scan_location"],
        fetal_pole=ibis.ifelse(j["scan_fetal_pole"].fill_null(False), "true", ibis.null("string")),
        fetal_heartbeat=_text(j["scan_fetal_heartbeat"]),
        # written only when true (a CRL not known to be verified); empty is verified
        crl_unverified=ibis.ifelse(
            j["scan_crl_unverified"].fill_null(False), "true", ibis.null("string")
        ),
        earlier_crl_date=_text(j["earlier_crl_date"]),
        earlier_crl_mm=_text(j["earlier_crl_mm"]),
        crl_mm=_text(j["scan_crl_mm"]),
        msd_mm=_text(j["scan_msd_mm"]),
        # Unknown (a miscarriage that may be this pregnancy's; a current medicine that cannot
        # be identified) is written as the flat form's word for it, never as false; an
        # encounter with no rows of them is false.
        miscarriage_diagnosed=ibis.cases(
            (
                j["miscarriage_diagnosed"].isnull() & j["miscarriage_unknown"].fill_null(False),
                ibis.literal(flat.UNKNOWN_WORD),
            ),
            else_=_text(j["miscarriage_diagnosed"].fill_null(False)),
        ),
        on_progesterone=ibis.cases(
            (
                j["on_progesterone"].isnull() & j["progesterone_unknown"].fill_null(False),
                ibis.literal(flat.UNKNOWN_WORD),
            ),
            else_=_text(j["on_progesterone"].fill_null(False)),
        ),
        allergies=ibis.ifelse(
            (j["allergies"].length() > 0).fill_null(False),
            ibis.literal("; ").join(j["allergies"]),
            ibis.null("string"),
        ),
        progesterone_prescribed=_text(prescribed),
        prescribed_on=_text(j["prescribed_on"]),
        site=j["provider"].re_replace("^Organization/", ""),
        age_band=_age_band(j["birth"], j["e_day"]),
        ethnicity=j["eth_display"].coalesce(j["eth_text"]),
        deprivation_quintile=j["imd"].cast("int64"),
        # her current progesterone against NG126 1.5.2's product (stop 52; kept like site, an
        # output column of every engine): "ng126", "other" (route, dose or frequency differ),
        # "unknown" (not all given, or whether she is on progesterone is unknown); empty when she
        # is not on progesterone
        current_progesterone_product=ibis.cases(
            (j["on_recommended_progesterone"].fill_null(False), ibis.literal("ng126")),
            ((~j["on_recommended_progesterone"]).fill_null(False), ibis.literal("other")),
            (
                j["on_progesterone"].fill_null(False) | j["progesterone_unknown"].fill_null(False),
                ibis.literal(flat.UNKNOWN_WORD),
            ),
            else_=ibis.null("string"),
        ),
        exclusion=exclusion,
    ).order_by("row_number")


def read_fhir_export(con: Any, export: ExportFiles, name: str) -> tuple[ir_t.Table, FhirReading]:
    """The flat cohort of the export's episodes (with ``row_number``) read on ``con`` (an ibis
    DuckDB or PySpark backend), and what was read (`FhirReading`: the encounters that are not
    episodes, by reason). Work tables are named ``{name}_...``."""
    other_types: list[OtherTypeLines] = []
    resources = load_resources(con, export.files, _LOADED, f"{name}_r", other_types)
    export.other_type_lines = other_types  # reported in the summary and the report
    keep = materializer(con, name)
    rows, _, _ = compile_rows(AUDIT_ROWS, resources)
    # merged records (Patient.link): one woman, her encounters and resources the survivor's
    links = rows["patient_links"]
    merges = resolve(_fetch(con, links.select("patient", "other", "kind")))
    # without a merge the reading is the plain one (no join, the plan it always had)
    merged = _merged_table(con, f"{name}_merged", merges) if merges.survivor else None
    # resources naming their patient by an identifier only: tied to the Patient carrying it
    by_identifier, ties = identifier_ties(con, resources, merged, keep)
    enc = rows["audit_encounters"]
    if by_identifier is not None:  # an encounter too (before the merges: it is the survivor)
        enc = _as_tied(enc, con.table(by_identifier))
    enc = keep(_as_survivor(enc, con.table(merged)) if merged else enc, "enc")
    keys = keep(
        enc.select(
            _key=enc["n"],
            encounter=enc["episode_id"],
            patient=enc["patient"],
            assessed_on=enc["assessed_on"],
        ),
        "keys",
    )
    patients = keep(rows["audit_patients"], "patients")
    # progesterone care tied to nobody: the bound on "not offered" (before DuckDB frees inputs)
    untied = count_untied_care(con, resources, by_identifier, patients, enc, _fetch)
    if con.name == "duckdb" and "Encounter" in resources:
        # kept above, and the reading does not read Encounters (it frees its own inputs)
        drop_input(con, resources["Encounter"])
    # versions ranked only for the (patient, id) pairs sent more than once: the other rows read
    # a version table's join as their own row (`own_rows`, stop 29)
    # (per woman: her merged records and her identifier-only resources are hers, HAZ-20 C20.20)
    women = Women(
        con.table(merged) if merged is not None else None,
        con.table(by_identifier) if by_identifier is not None else None,
    )
    unique, repeated = counted_joined_tables(con, AUDIT_READING, resources, women)
    # DuckDB frees each resource table once the reading has read it (memory stays flat)
    reading = run_records(
        con,
        AUDIT_READING,
        resources,
        keys.get_name(),
        f"{name}_k",
        drop_inputs=con.name == "duckdb",
        merged=merged,
        by_identifier=by_identifier,
        unique=unique,
        repeated=repeated,
    )
    assert reading.episodes is not None
    every = keep(
        flat_table(enc, patients, reading.episodes, bool(export.of(PRESCRIPTIONS))),
        "t",
    )
    if con.name == "duckdb":  # every encounter, with why one is not an episode, by a plain name
        con.raw_sql(f"CREATE OR REPLACE VIEW {name}_t AS SELECT * FROM {every.get_name()}")
    excluded_rows = every.filter(every["exclusion"].notnull())
    counts = _fetch(con, excluded_rows.group_by("exclusion").aggregate(count=excluded_rows.count()))
    encounters = int(_fetch(con, every.aggregate(count=every.count()))[0]["count"])
    judged = every.filter(every["exclusion"].isnull())
    orphans = enc.filter(enc["patient"].notnull()).anti_join(
        patients, enc["patient"] == patients["patient"]
    )
    orphans = orphans.semi_join(judged, orphans["n"] == judged["row_number"])
    without_patient = int(_fetch(con, orphans.aggregate(count=orphans.count()))[0]["count"])
    episodes = judged.drop("exclusion").order_by("row_number")
    excluded = {
        r["exclusion"]: int(r["count"]) for r in sorted(counts, key=lambda r: r["exclusion"])
    }
    without_prescriptions = not export.of(PRESCRIPTIONS)
    return episodes, FhirReading(
        export,
        excluded,
        encounters,
        without_patient,
        without_prescriptions,
        _merge_summary(con, merges, enc),
        ties,
        untied,
    )


def _merged_table(con: Any, name: str, merges: Merges) -> str:
    """Table ``name``: each merged-away Patient id and its survivor (`earlypath.records.merges`),
    in the engine, for the reading to join (`ibis_compile.compile_episodes`)."""
    pairs = sorted(merges.survivor.items())
    if con.name == "pyspark":
        frame = con._session.createDataFrame(pairs, "merged_id string, survivor string")
        # stored in the JVM once, not sent through a Python worker by every job that scans it
        # (as the value codes, `earlypath.records.value_codes`)
        frame.localCheckpoint(eager=True).createOrReplaceTempView(name)
    else:  # the ids as parameters, never written into the SQL
        con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{name}" (merged_id VARCHAR, survivor VARCHAR)')
        if pairs:
            con.con.executemany(f'INSERT INTO "{name}" VALUES (?, ?)', pairs)
    return name


def _as_survivor(encounters: ir_t.Table, merged: ir_t.Table) -> ir_t.Table:
    """The encounters, each of a merged record as the surviving record's (its id and ``n``
    kept: it is her encounter, in its place)."""
    j = encounters.left_join(merged, encounters["patient"] == merged["merged_id"])
    return j.select(
        *(
            j["survivor"].coalesce(j["patient"]).name(c) if c == "patient" else j[c]
            for c in encounters.columns
        )
    )


def identifier_ties(
    con: Any, resources: dict[str, ir_t.Table], merged: str | None, keep: Any
) -> tuple[str | None, dict[str, Any]]:
    """The resources naming their patient by an identifier only (``identified_subjects``), tied
    to the one Patient carrying it (``patient_identifiers``; the surviving record when merged):
    a stored table (``ref``, ``n``, ``tied``) for the reading to join, and its counts for
    summary.json (never an identifier). The rule and its Python twin: `identifiers.tie`.
    An export without such a resource pays one count, its SQL kept between runs
    (`kept_count`), and gets no table (the plain reading)."""
    if not count_rows(con, _NAMED, resources, "identified_subjects"):
        return None, {}
    named = compile_rows(_NAMED, resources)[0]["identified_subjects"]
    carried = compile_rows(_CARRIED, resources)[0]["patient_identifiers"]
    if merged is not None:
        carried = _as_survivor(carried, con.table(merged))
    # one row per (Patient, identifier); a Patient without an id is an owner too (NULL)
    carried = carried.select("patient", "system", "value").distinct()
    per = carried.group_by(["system", "value"]).aggregate(
        owners=carried.count(), owner=carried["patient"].max()
    )
    shared = per.filter(per["owners"] > 1)
    j = named.left_join(per, (named["system"] == per["system"]) & (named["value"] == per["value"]))
    why = ibis.cases(
        (j["system"].isnull() | j["value"].isnull(), WITHOUT_SYSTEM_OR_VALUE),
        (j["owners"] > 1, ON_TWO_PATIENTS),
        ((j["owners"] == 1) & j["owner"].notnull(), _TIED),
        (j["nhs_number_not_valid"], NHS_NUMBER_NOT_VALID),
        else_=NOT_CARRIED,
    )
    j = j.select(ref=j["ref"], n=j["n"], tied=j["owner"], why=why)
    table = keep(j.filter(j["why"] == _TIED).select("ref", "n", "tied"), "by_identifier")
    counts = {
        r["why"]: int(r["count"]) for r in _fetch(con, j.group_by("why").aggregate(count=j.count()))
    }
    tied = counts.pop(_TIED, 0)
    summary = Ties(not_tied=counts, shared=_count(con, shared)).summary()
    return table.get_name(), summary | {"resources_tied": tied}


_TIED = "tied"


def _count(con: Any, table: ir_t.Table) -> int:
    return int(_fetch(con, table.aggregate(count=table.count()))[0]["count"])


def _as_tied(encounters: ir_t.Table, by_identifier: ir_t.Table) -> ir_t.Table:
    """The encounters, one naming its patient by an identifier only as the Patient's that
    carries it (`identifier_ties`); a literal reference is kept."""
    b = by_identifier
    j = encounters.left_join(b, (encounters["ref"] == b["ref"]) & (encounters["n"] == b["n"]))
    return j.select(
        *(
            j["patient"].coalesce(j["tied"]).name(c) if c == "patient" else j[c]
            for c in encounters.columns
        )
    ).view()  # a relation of its own: `_as_survivor` joins it next


def _merge_summary(con: Any, merges: Merges, enc: ir_t.Table) -> dict[str, Any]:
    """What the reading did with merged records, without an id: how many records were read as
    another's, how many encounters are of a record whose merge cannot be resolved (by why),
    and the links that merge nothing, by type. Empty when the export has no link."""
    out: dict[str, Any] = {}
    if merges.survivor:
        out["records_read_as_another"] = len(merges.survivor)
    unresolved: dict[str, int] = {}
    for why in sorted(set(merges.unresolved.values())):
        ids = sorted(p for p, w in merges.unresolved.items() if w == why)
        named = enc.filter(enc["patient"].isin(ids))
        unresolved[why] = int(_fetch(con, named.aggregate(count=named.count()))[0]["count"])
    if unresolved:
        out["encounters_of_unresolved_merges"] = unresolved
    if merges.not_used:
        out["links_not_used"] = merges.not_used
    return out


def _fetch(con: Any, table: ir_t.Table) -> list[dict[str, Any]]:
    """The (few) rows of ``table``. On DuckDB through the connection's cursor: ibis's
    ``to_pyarrow`` there loads pandas for its type converter (about a second of a reading)."""
    if con.name != "duckdb":
        return table.to_pyarrow().to_pylist()
    cursor = con.raw_sql(compiled_sql(con, table))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def refuse_unreadable_lines_spark(session: Any, export: ExportFiles) -> None:
    """A ValueError naming the file and line of the first line of the export that is not a JSON
    value (as DuckDB's reader refuses it: `earlypath.audit.load._flatten_fhir`): Spark's reader
    parses with try_parse_json, which would make such a line silently no resource. Spark-only:
    DuckDB refuses the line while reading it."""
    from pyspark.sql import functions as F  # noqa: N812 (Spark's usual name)

    for path in (p for files in export.files.values() for p in files):
        lines = session.read.text(str(path)).select(
            F.monotonically_increasing_id().alias("m"), "value"
        )
        bad = lines.where((F.length(F.trim("value")) > 0) & F.expr("try_parse_json(value) IS NULL"))
        first = bad.orderBy("m").select("m", "value").limit(1).collect()
        if not first:
            continue
        if "\x00" in first[0]["value"]:  # UTF-16 read as UTF-8: every other byte is NUL
            raise ValueError(f"{path.name} is UTF-16 text: save it as UTF-8")
        line = lines.where(F.col("m") <= first[0]["m"]).count()
        raise ValueError(
            f"{path.name} line {line} is not readable as FHIR NDJSON "
            "(UTF-8 JSON, one resource a line)"
        )


# DuckDB's memory while it flattens an export. Without a cap it keeps every resource's typed
# table and work table in memory, and the peak grew with the export (300k patients: 1.0 GB, the
# plain read of the files 0.19 GB); with it, the coldest blocks go to a private temp folder and
# the peak stays about the same (docs/speed.md). Each thread's JSON reader holds buffers of its
# own (32 MiB at a time), so the cap grows with the threads, not with the export.
FLATTEN_MEMORY_BASE_MIB = 128
FLATTEN_MEMORY_PER_THREAD_MIB = 64


def flatten_memory_limit(duck: Any) -> str:
    """The memory limit `capped_memory` sets for this connection's threads."""
    threads = int(duck.execute("SELECT current_setting('threads')").fetchall()[0][0])
    return f"{FLATTEN_MEMORY_BASE_MIB + threads * FLATTEN_MEMORY_PER_THREAD_MIB}MiB"


@contextmanager
def capped_memory(duck: Any) -> Iterator[None]:
    """DuckDB's memory limit at `flatten_memory_limit` for the duration (the default after, as
    `earlypath.audit.pass_duckdb.bounded_copy_memory` leaves it), blocks beyond it written to a
    folder only this user can read (the export's data: not DuckDB's default ``.tmp`` in the
    working directory), removed when the process ends."""
    folder = duck.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    if folder == ".tmp":  # DuckDB's default for an in-memory database: nothing spilled yet
        private = tempfile.mkdtemp(prefix="earlypath-spill-")
        atexit.register(shutil.rmtree, private, ignore_errors=True)
        quoted = private.replace("'", "''")
        duck.execute(f"SET temp_directory = '{quoted}'")
    duck.execute(f"SET memory_limit = '{flatten_memory_limit(duck)}'")
    try:
        yield
    finally:
        duck.execute("RESET memory_limit")


def flatten_fhir_duckdb(con: Any, source: Path | ExportFiles, name: str) -> FhirReading:
    """Create view ``name`` (the flat cohort with ``row_number``) from a bulk export.

    ``source`` is the export's files (`discover_export`, which refuses an export without its
    Encounter, Patient and Condition files) or a folder, whose files are then read as they are.
    The view holds the encounters that are episodes; table ``{name}_t`` holds every encounter,
    with ``exclusion`` saying why one is not (NULL for an episode). ``con`` is an ibis DuckDB
    backend; the work tables it leaves are prefixed with ``name``.
    """
    export = source if isinstance(source, ExportFiles) else discover_export(source, RESOURCES, ())
    with reading_passes_off(con.con):
        try:
            with capped_memory(con.con):
                _, reading = read_fhir_export(con, export, name)
        except duckdb.OutOfMemoryException:
            # a step that cannot write its blocks out under the cap: read again without it
            # (every table of the reading is created or replaced: nothing of the first try is
            # kept)
            _, reading = read_fhir_export(con, export, name)
    con.raw_sql(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * EXCLUDE (exclusion) FROM {name}_t "
        "WHERE exclusion IS NULL"
    )
    return reading
