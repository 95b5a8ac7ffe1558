"""Read a cohort into an engine as a raw table with ``row_number`` (1-based position in the input).

Inputs: a CSV file (read as text: every cell is checked by `validate`), a Parquet file (typed
columns are used as they are), a folder of CSV or Parquet part files, flat or Hive-partitioned
(`earlypath.audit.parts` defines their order, files by relative path then rows in file order,
and reads the partition values, which each engine adds as text columns), or a folder of FHIR R4
bulk-export NDJSON (flattened in DuckDB by `earlypath.audit.fhir_flat`; one row per Encounter,
numbered in the order of Encounter.ndjson). Engines: DuckDB (embedded) or PySpark (a local or given
SparkSession); the python reference engine reads through DuckDB.
"""

from __future__ import annotations

import os
import re
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from earlypath.audit.flat import ADDED_COLUMNS, FLAT_COLUMNS, added_name_clashes
from earlypath.audit.parts import (
    SUFFIXES,
    Parts,
    check_header,
    csv_header,
    folder_format,
    input_parts,
    parquet_row_counts,
    rows_before,
)
from earlypath.errors import InputError, Problem

if TYPE_CHECKING:  # ibis is imported where an expression is built (a kept DuckDB audit: never)
    import ibis.expr.types as ir_t
    from ibis.backends import BaseBackend

__all__ = [
    "Format",
    "arrow_batches",
    "connect",
    "detect_format",
    "duckdb_connect",
    "fetch_arrow",
    "fhir_reading",
    "load_raw",
    "loaded_layout",
    "materialize",
    "rows_numbered_in",
    "rows_read",
    "spark_block_bases",
    "spark_cores",
    "spark_local_settings",
    "spark_session",
    "sql_text",
    "view",
]

Format = Literal["csv", "parquet", "fhir"]
RAW = "earlypath_raw_cohort"
SOURCE_FILE = "earlypath_source_file"  # a helper column, dropped before the engines see rows
# Helper columns of the Spark numbering (dropped from the result).
_FILE, _BLOCK, _POSITION, _BASE = (f"_earlypath_{n}" for n in ("file", "block", "position", "base"))
# Names the audit reads or adds, in the case-blind form the engines match column names in.
_TAKEN = frozenset(n.casefold() for n in (*FLAT_COLUMNS, *ADDED_COLUMNS))


def detect_format(path: Path) -> Format:
    """csv or parquet (a file, or a folder of part files), or fhir (a folder with NDJSON)."""
    if path.is_dir():
        from earlypath.audit.fhir_files import is_export

        if is_export(path):
            return "fhir"
        return folder_format(path)
    suffix = path.suffix.lower()
    if suffix in SUFFIXES["csv"]:
        return "csv"
    if suffix in SUFFIXES["parquet"]:
        return "parquet"
    raise ValueError(
        f"{path}: cannot tell the format (expected .csv, .parquet, or a folder of part files "
        "or of FHIR NDJSON)"
    )


def spark_session(master: str = "local[*]") -> Any:
    """A local SparkSession tuned for one machine (see `spark_local_settings`)."""
    from pyspark.sql import SparkSession

    from earlypath.audit.spark_jvm import class_archive_option

    settings = spark_local_settings(master)
    archive = class_archive_option()  # the JVM's classes mapped from an earlier run's archive
    if archive:
        settings["spark.driver.extraJavaOptions"] += " " + archive
    builder = SparkSession.builder.master(master).appName("earlypath-audit")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_cores(master: str) -> int:
    """The worker threads of a ``local``, ``local[N]`` or ``local[*]`` master (1 for local)."""
    found = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if found is None:
        raise ValueError(f"{master!r}: expected a local master (local, local[N] or local[*])")
    if found.group(1) is None:
        return 1
    if found.group(1) == "*":
        return os.cpu_count() or 1
    return max(1, int(found.group(1)))


# Read when the JVM starts: they apply to a session this module starts, not to one passed in.
# Most of a 100k-row audit is a cold JVM running Spark's planner and code generator in its
# interpreter (the same audit again in the same JVM: 12.4 s -> 4.8 s). The quick compiler is
# cheap, so it is asked to compile a method after fewer calls and loop turns than its defaults
# (200 calls, 2,000 calls and turns, 60,000 turns): less time interpreted before the code is
# compiled (`QUICK_COMPILE_SOONER`; docs/speed.md, third round).
QUICK_COMPILE_SOONER = (
    "-XX:Tier3InvocationThreshold=50 -XX:Tier3MinInvocationThreshold=20 "
    "-XX:Tier3CompileThreshold=300 -XX:Tier3BackEdgeThreshold=6000"
)
# With the quick compiler only, the JVM shrinks its compiled-code cache to 48 MB (240 MB
# otherwise). Spark compiles code for every query it plans, and a session that lives through
# many audits (the test suite's, a long-running service's) filled it: "Out of space in
# CodeCache for method handle intrinsic" failed the next query. The cache is reserved address
# space, filled only as code is compiled (`CODE_CACHE`).
CODE_CACHE = "-XX:ReservedCodeCacheSize=240m"
# The JVM never compiles a method of more than 8,000 bytes of bytecode (DontCompileHugeMethods):
# it stays interpreted for good. The judging stage's generated `processNext` (Spark's whole-stage
# code for the checks and rules) is 9,383 bytes, so every row ran through the interpreter: its
# tasks took 14.5 CPU s for 1M rows, 11.5-11.6 compiled, for 0.06 s more of the quick compiler
# (`COMPILE_HUGE_METHODS`; docs/speed.md, Spark twelfth round). Spark's own limit
# (spark.sql.codegen.hugeMethodLimit, 65,535 bytes) is the JVM's hard one, not this.
COMPILE_HUGE_METHODS = "-XX:-DontCompileHugeMethods"
# The JVM runs a collection, young then full, each time the class metadata it has loaded
# (metaspace) crosses a threshold that starts at about 21 MB and is raised after each one; an
# audit loads some 60 MB of it (Spark's classes beyond the class archive's, the generated code),
# so a 1M-row audit on local[2] ran three full collections that freed nothing (44->42, 66->62,
# 90->89 MB of heap), 1.2 s of every thread stopped at load 9 (docs/speed.md, Spark thirteenth
# round). From 256 MB the first such collection comes only in a session that has compiled far
# more (the test suite's, a long-lived service's): classes are still unloaded then. The
# metadata is committed as it is loaded, not up front (`METASPACE_FIRST_COLLECTION`).
METASPACE_FIRST_COLLECTION = "-XX:MetaspaceSize=256m"
LOCAL_JVM_OPTIONS = (
    f"-XX:TieredStopAtLevel=1 {CODE_CACHE} -XX:+UseParallelGC {QUICK_COMPILE_SOONER} "
    f"{COMPILE_HUGE_METHODS} {METASPACE_FIRST_COLLECTION}"
)


def spark_local_settings(master: str) -> dict[str, str]:
    """Settings for a local audit: its fixed cost is per job and per task, not per row.

    Shuffles (the repeated-id count, the summary's group-bys, the sort before writing) get one
    partition per core, so every core has work and no task is an empty one; small input files
    are packed into a split per core instead of one task a file; no UI, no Hive catalog, no
    console progress. Adaptive execution is off: with one shuffle partition per core there is
    nothing for it to merge, and it runs each shuffle stage as a Spark job of its own, each with
    its fixed cost (a 2,000-row audit: 18 -> 12 jobs; 1M rows: JVM CPU 39.9 s -> 37.5 s). The
    driver's JVM (the whole of a local Spark) compiles with its quick compiler only: an audit is
    too short for the optimising compiler to pay back its CPU (JVM CPU of a 100k-row audit
    21.9 s -> 11.2 s, of 1M rows 41.7 s -> 37.2 s). An optimizer rule that costs planning time
    and changes nothing here is left out (`EXCLUDED_OPTIMIZER_RULES`). The tasks' sort and
    write buffers live outside the JVM's heap (`OFF_HEAP_EXECUTION`)."""
    cores = str(spark_cores(master))
    return {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": "4g",
        "spark.driver.extraJavaOptions": LOCAL_JVM_OPTIONS,
        "spark.default.parallelism": cores,
        "spark.sql.shuffle.partitions": cores,
        "spark.sql.files.minPartitionNum": cores,
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.optimizer.excludedRules": ",".join(EXCLUDED_OPTIMIZER_RULES),
        "spark.memory.offHeap.enabled": "true",
        "spark.memory.offHeap.size": OFF_HEAP_EXECUTION,
    }


# The memory of the tasks' sorts and writes (Spark's execution memory), outside the JVM's heap.
# On the heap, each task's sort buffer (its whole partition, some 150 MB for 500k judged rows)
# was copied by every young collection and promoted, and the old generation filled: 1M rows on
# local[2] took 11 collections, two of them full, 3.3 s of pauses (every task stopped), 1.2-1.5
# GC CPU s; off the heap, 10 young ones, 1.2 s, 0.5 CPU s, the same peak memory (2.0 GB) and the
# same output bytes (docs/speed.md, Spark eighth round). The size is about the heap's execution
# share it replaces (of 4g, 60% less 300 MB reserved); a larger sort spills to disk, as before.
OFF_HEAP_EXECUTION = "2g"


# Optimizer rules that cost planning time and do nothing for the audit's queries: each is a
# rewrite that keeps the results (Spark refuses to leave out a rule a query needs).
# FoldablePropagation: 0.78 s of the 3.7 s of analysis and optimisation of a 100k-row audit
# (Spark's RuleExecutor.dumpTimeSpent), changing the plan once in 35 runs.
# The others walk the whole plan (the judging's expressions are large) on the driver's one
# thread before the job, in a JVM still interpreting them, for constructs the audit's queries
# never hold: Dataset serialisers, scalar subqueries, partitioned tables (the files are read one
# by one, their keys added as literals) and aliases of a column to itself. A 1M-row audit
# spent 0.52 s of the optimiser's 3.4 s in them, changing its plan in none of their 34 runs
# (load 12; docs/speed.md, Spark twenty-third round).
EXCLUDED_OPTIMIZER_RULES = (
    "org.apache.spark.sql.catalyst.optimizer.FoldablePropagation",
    "org.apache.spark.sql.catalyst.optimizer.RemoveRedundantAliases",
    "org.apache.spark.sql.execution.datasources.PruneFileSourcePartitions",
    "org.apache.spark.sql.catalyst.optimizer.OptimizeOneRowRelationSubquery",
    "org.apache.spark.sql.catalyst.optimizer.MergeScalarSubqueries",
    "org.apache.spark.sql.catalyst.optimizer.ObjectSerializerPruning",
)


def connect(engine: str, spark: Any = None) -> BaseBackend:
    import ibis

    if engine == "spark":
        return ibis.pyspark.connect(spark or spark_session())
    return duckdb_connect()


def duckdb_connect() -> BaseBackend:
    """An in-memory DuckDB connection (its own progress bar off: the CLI shows Rich's)."""
    import ibis

    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    return con


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_raw(con: BaseBackend, path: Path, fmt: Format | None = None) -> ir_t.Table:
    """The input as a table of its own columns plus ``row_number``."""
    if con.name == "duckdb":
        return con.table(load_raw_duckdb(con, path, fmt))
    return _load_raw(con, path, fmt)


def load_raw_duckdb(con: Any, path: Path, fmt: Format | None = None) -> str:
    """DuckDB: the input as a view of its own columns plus ``row_number``; returns its name
    (no ibis table is built: `earlypath.audit.pass_duckdb` runs SQL text on it)."""
    _load_raw(con, path, fmt)
    return RAW


def _load_raw(con: Any, path: Path, fmt: Format | None) -> ir_t.Table | None:
    _FHIR_READINGS.pop(con, None)  # what an earlier input on this connection found
    _ROWS_IN.pop(con, None)
    _LAYOUTS.pop(con, None)
    _NUMBERED_ONE_TO_N.pop(con, None)
    _ONE_FILE_READ.pop(con, None)
    fmt = fmt or detect_format(path)
    if fmt == "fhir":
        parts = None
    else:
        parts = input_parts(path, fmt)
        _refuse_names(parts, fmt, con.con if con.name == "duckdb" else None)
    if con.name == "duckdb":
        _load_duckdb(con, path, fmt, parts)  # a view named RAW
        return None
    if con.name == "pyspark":
        return _load_spark(con, path, fmt, parts)
    raise ValueError(f"no loader for the {con.name} backend")


# What reading a FHIR export found (its files; the encounters that are not episodes, by reason),
# by the connection whose RAW table it became (`fhir_reading`).
_FHIR_READINGS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def fhir_reading(con: BaseBackend) -> Any:
    """The `earlypath.audit.fhir_flat.FhirReading` of the FHIR export last loaded on ``con``
    (None if the input was not a FHIR export)."""
    return _FHIR_READINGS.get(con)


def _read_fhir_export(owner: Any, con: Any, path: Path) -> None:
    """Flatten a bulk export into ``RAW`` on the DuckDB connection ``con``, recording what was
    read for ``owner`` (the connection the audit runs on). An export without its Encounter,
    Patient or Condition files, or whose Encounter files hold no Encounter, is refused: an
    audit of nobody must not pass for a clean one."""
    from earlypath.audit.fhir_files import discover_export
    from earlypath.audit.fhir_flat import RESOURCES
    from earlypath.audit.fhir_read import flatten_fhir_duckdb

    export = discover_export(path, RESOURCES)
    reading = flatten_fhir_duckdb(con, export, RAW)
    _refuse_no_encounter(reading)
    _FHIR_READINGS[owner] = reading


def _refuse_no_encounter(reading: Any) -> None:
    if reading.encounters == 0:
        names = ", ".join(p.name for p in reading.export.of("Encounter"))
        raise InputError(
            [Problem("Encounter", f"the export's Encounter files ({names}) hold no Encounter")]
        )


def _refuse_names(parts: Parts, fmt: Format, duck: Any = None) -> None:
    """Refuse a column named like one the audit adds, and a partition key named like a column
    of the files or one the audit reads or adds (each would shadow the other). A Parquet file's
    columns are read by DuckDB (``duck``) when it can tell their types for certain and they are
    all usable; pyarrow (a costly import) reads them otherwise, and names the unusable types."""
    if fmt == "csv":
        columns = csv_header(parts.files[:1], parts.names[:1])
    elif (usable := _usable_columns(duck, parts.files[0])) is not None:
        columns = usable
    else:
        import pyarrow.parquet as pq

        try:
            schema = pq.ParquetFile(parts.files[0]).schema_arrow
        except Exception as error:
            raise ValueError(
                f"{parts.names[0]} is not a readable Parquet file ({type(error).__name__})"
            ) from None
        columns = schema.names
        _refuse_types(schema)
    problems = [
        Problem(name, "is a name the audit gives to a column it adds: rename it")
        for name in added_name_clashes(columns)
    ]
    # The engines match column names in any case: Vaginal_Bleeding would be read as the flat
    # column by one and kept as an extra column by another. Flat columns are named in lower case.
    flat_names = {c.casefold(): c for c in FLAT_COLUMNS}
    problems += [
        Problem(name, f"is {flat_names[name.casefold()]} written in another case: rename it")
        for name in columns
        if name.casefold() in flat_names and name not in FLAT_COLUMNS
    ]
    # DuckDB numbers a CSV's rows by its rowid, which a column of that name would hide.
    problems += [
        Problem(name, "is a name the engines keep for their own row ids: rename it")
        for name in [*columns, *parts.keys]
        if name.casefold() == "rowid"
    ]
    inside = {c.casefold() for c in columns}
    for key in parts.keys:
        if key.casefold() in inside:
            problems.append(
                Problem(
                    key,
                    "is both a partition key (a key=value folder) and a column in the part "
                    "files: rename one of them",
                )
            )
        elif key.casefold() in _TAKEN:  # (a _rule_ folder is skipped, as every _ name is)
            problems.append(
                Problem(
                    key,
                    "is a partition key (a key=value folder) named like a column the audit "
                    "reads or adds: rename the folders",
                )
            )
    if problems:
        raise InputError(problems)


# The Parquet types each kind of flat column may have besides text (and all-null): a cell of
# one of them reads the same on every engine. Others (lists, structs, binary, a float for a
# count, an integer for a true/false) are refused by name before any row is read.
_PARQUET_TYPES: dict[str, tuple[str, ...]] = {
    "str": ("integer",),
    "date": ("date", "timestamp"),
    "int": ("integer",),
    "float": ("integer", "floating", "decimal"),
    "bool": ("boolean",),
}
_EXPECTED = {
    "str": "text or whole numbers",
    "date": "text (YYYY-MM-DD), dates or timestamps",
    "int": "text or whole numbers",
    "float": "text or numbers",
    "bool": "text (true/false) or true/false",
}


def _usable_columns(duck: Any, path: Path) -> list[str] | None:
    """The Parquet file's column names when DuckDB reads its types for certain and every flat
    column's is usable (`earlypath.audit.parquet_families`); None: ask pyarrow."""
    if duck is None:
        return None
    from earlypath.audit.parquet_families import column_families

    found = column_families(duck, path, FLAT_COLUMNS)
    if found is None:
        return None
    columns, families = found
    usable = all(
        family in ("string", "null", *_PARQUET_TYPES[FLAT_COLUMNS[name]])
        for name, family in families.items()
    )
    return columns if usable else None


def _names_by_duckdb(con: Any, path: Path) -> list[str] | None:
    """The Parquet file's column names, read by DuckDB (None if it cannot tell for certain)."""
    from earlypath.audit.parquet_families import column_families

    found = column_families(con.con, path, ())
    return None if found is None else found[0]


def pyarrow_family(t: Any) -> str:
    """The family of a pyarrow type the flat columns' checks go by (the reference that
    `earlypath.audit.parquet_families` agrees with or defers to)."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return pyarrow_family(t.value_type)
    for name in ("string", "large_string", "null", "integer", "floating", "decimal"):
        if getattr(pa.types, f"is_{name}")(t):
            return "string" if name == "large_string" else name
    for name in ("date", "timestamp", "boolean"):
        if getattr(pa.types, f"is_{name}")(t):
            return name
    return "other"


def _refuse_types(schema: Any) -> None:
    family = pyarrow_family

    problems = [
        Problem(field.name, f"has the Parquet type {field.type}: expected {_EXPECTED[kind]}")
        for field in schema
        if (kind := FLAT_COLUMNS.get(field.name))
        and family(field.type) not in ("string", "null", *_PARQUET_TYPES[kind])
    ]
    if problems:
        raise InputError(problems)


def _flatten_fhir(owner: Any, con: Any, path: Path) -> None:
    """Flatten a FHIR NDJSON export in DuckDB (`_read_fhir_export`); a file that is not UTF-8
    JSON, one resource a line, is a ValueError naming the file and line (the same for every
    engine)."""
    import duckdb

    try:
        _read_fhir_export(owner, con, path)
    except duckdb.InvalidInputException as error:
        text = str(error)
        found = re.search(r'in file "([^"]+)"', text)
        name = Path(found.group(1)).name if found else path.name
        if "UTF-16" in text:
            raise ValueError(f"{name} is UTF-16 text: save it as UTF-8") from None
        line = re.search(r"in line (\d+)", text)
        # DuckDB (1.x) names the line after the bad one (tests/audit/test_bad_files.py pins it).
        where = f"{name} line {max(int(line.group(1)) - 1, 1)}" if line else name
        raise ValueError(
            f"{where} is not readable as FHIR NDJSON (UTF-8 JSON, one resource a line)"
        ) from None


def _load_duckdb(con: Any, path: Path, fmt: Format, parts: Parts | None) -> None:
    if parts is None:
        _flatten_fhir(con, con, path)
        return
    if fmt == "parquet":
        _parquet_view_duckdb(con, parts, path.name)
    else:
        _csv_table_duckdb(con, parts)
    # Parquet (each file's own numbers after the rows of the files before it) and CSV (a
    # table's rowid) number the rows 1 to N; a FHIR export's numbers have gaps.
    _NUMBERED_ONE_TO_N[con] = True


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_value(value: str | None) -> str:
    return "NULL" if value is None else sql_text(value)


def _parquet_view_duckdb(con: Any, parts: Parts, label: str) -> None:
    """A view reading the files in place (no copy of the cohort in memory). Each file numbers its
    own rows; for a folder, a small table of files adds the rows of the files before each, and
    the file's partition values."""
    files = parts.files
    if len(files) == 1 and not parts.keys and (names := _names_by_duckdb(con, files[0])):
        # One file: its names as DuckDB reads them (pyarrow is not imported for its footer)
        check_header(names, (parts.names or [files[0].name])[0], where="Parquet schema")
        starts = [0]
    else:
        starts = rows_before(parquet_row_counts(files, parts.names))
    sources = "[" + ", ".join(sql_text(str(f)) for f in files) + "]"
    # The read_parquet options (not DuckDB's virtual columns of the same names) fail loudly if
    # the data has a column of that name, instead of silently numbering by the data's column.
    # hive_partitioning is off: DuckDB would otherwise find key=value folders anywhere in the
    # path (even above the input) and add them as typed columns; parts.py gives the values.
    options = "hive_partitioning = false, file_row_number = true"
    if len(files) == 1 and not parts.keys:  # the usual case, without a join
        read = f"read_parquet({sources}, {options})"
        select = f"{_ONE_FILE_COLUMNS} FROM {read}"
        _ONE_FILE_READ[con] = read
    else:
        # The files table's own column names (k0, k1, ...) cannot clash with any key's name.
        keys = range(len(parts.keys))
        con.raw_sql(
            f"CREATE OR REPLACE TABLE {RAW}_files (path VARCHAR, rows_before BIGINT"
            + "".join(f", k{i} VARCHAR" for i in keys)
            + ")"
        )
        con.raw_sql(
            f"INSERT INTO {RAW}_files VALUES "
            + ", ".join(
                f"({', '.join([sql_text(str(f)), str(n), *map(_sql_value, values)])})"
                for f, n, values in zip(files, starts, parts.values, strict=True)
            )
        )
        select = (
            "SELECT f.rows_before + p.file_row_number + 1 AS row_number, "
            f"p.* EXCLUDE (file_row_number, {SOURCE_FILE})"
            + "".join(f", f.k{i} AS {_sql_name(key)}" for i, key in enumerate(parts.keys))
            + f" FROM read_parquet({sources}, filename = '{SOURCE_FILE}', {options}) p "
            f"JOIN {RAW}_files f ON f.path = p.{SOURCE_FILE}"
        )
    try:
        con.raw_sql(f"CREATE OR REPLACE VIEW {RAW} AS {select}")
    except Exception as error:
        raise ValueError(
            f"{label} is not readable as Parquet by DuckDB ({type(error).__name__})"
        ) from None


def _csv_table_duckdb(con: Any, parts: Parts) -> None:
    """Load the files one after another into one table, each row with its file's partition
    values: a table keeps the order rows were inserted in (DuckDB preserves insertion order), so
    its rowid numbers them."""
    files = parts.files
    header = csv_header(files, parts.names)
    for index, path in enumerate(files):
        added = "".join(
            f", CAST({_sql_value(value)} AS VARCHAR) AS {_sql_name(key)}"
            for key, value in zip(parts.keys, parts.values[index], strict=True)
        )
        read = f"SELECT *{added} FROM {_strict_csv(path, header)}"
        try:
            con.raw_sql(
                f"CREATE OR REPLACE TABLE {RAW}_t AS {read}"
                if index == 0
                else f"INSERT INTO {RAW}_t {read}"
            )
        except Exception as error:
            raise csv_error(error, parts.names[index], len(header)) from None
    con.raw_sql(f"CREATE OR REPLACE VIEW {RAW} AS SELECT rowid + 1 AS row_number, * FROM {RAW}_t")


def _strict_csv(path: Path, header: list[str]) -> str:
    """DuckDB's reader of one CSV file as RFC 4180 says, every cell text, nothing guessed: the
    columns are the header's (read by `csv_header`), a line with more or fewer fields than the
    header is an error (a sniffer would take a ragged file for another dialect, or no header).
    hive_partitioning is off, as for Parquet."""
    columns = "{" + ", ".join(f"{sql_text(name)}: 'VARCHAR'" for name in header) + "}"
    return (
        f"read_csv({sql_text(str(path))}, auto_detect = false, header = true, delim = ',', "
        f"quote = '\"', escape = '\"', columns = {columns}, strict_mode = true, "
        "null_padding = false, hive_partitioning = false)"
    )


def csv_error(error: Exception, label: str, fields: int) -> ValueError:
    """DuckDB's CSV error as a message naming the file and line. DuckDB's own message quotes
    the offending line (patient data): only its line number and kind are passed on."""
    text = str(error)
    found = re.search(r"CSV Error on Line: (\d+)", text)
    line = f" line {found.group(1)}" if found else ""
    if "Invalid unicode" in text:
        return ValueError(f"{label}{line} is not UTF-8 text: save the file as UTF-8")
    if "Expected Number of Columns" in text:
        return ValueError(
            f"{label}{line} does not have the header's {fields} fields "
            "(check its quoting and the number of fields on each line)"
        )
    return ValueError(
        f"{label}{line} is not a readable CSV file (check its quoting, header and the number "
        "of fields on each line)"
    )


def check_csv_structure(parts: Parts) -> None:
    """Read every CSV file as the DuckDB loader does, raising the same errors: the Spark
    loader runs it first, so that a bad file gives the same message on every engine."""
    header = csv_header(parts.files, parts.names)
    con = duckdb_connect()
    try:
        for path, label in zip(parts.files, parts.names, strict=True):
            try:
                con.raw_sql(f"SELECT count(*) FROM {_strict_csv(path, header)}").fetchall()
            except Exception as error:
                raise csv_error(error, label, len(header)) from None
    finally:
        con.disconnect()


def _load_spark(con: Any, path: Path, fmt: Format, parts: Parts | None) -> ir_t.Table:
    from earlypath.audit.spark_input import input_pieces, spread_rows

    spark = con._session
    if parts is None:
        # A FHIR export is read on Spark itself, by the reading DuckDB also runs (fhir_read)
        from earlypath.audit.fhir_files import discover_export
        from earlypath.audit.fhir_flat import RESOURCES
        from earlypath.audit.fhir_read import read_fhir_export, refuse_unreadable_lines_spark

        export = discover_export(path, RESOURCES)
        refuse_unreadable_lines_spark(spark, export)
        flat, reading = read_fhir_export(con, export, f"{RAW}_fhir")
        _refuse_no_encounter(reading)
        _FHIR_READINGS[con] = reading
        df = spark.sql(str(con.compile(flat)))
    else:
        numbered, rows = _number_rows_spark(spark, _read_spark(spark, parts, fmt), parts, fmt)
        df = spread_rows(spark, numbered, rows, input_pieces(parts.files, fmt))  # every core judges
        _ROWS_IN[con] = rows
        spread = "as read"
        if df is not numbered:  # (the rows and the runs' keys, one per core, are literals)
            spread = f"{rows} rows spread over {spark.sparkContext.defaultParallelism}"
        _LAYOUTS[con] = f"{fmt}, {len(parts.files)} files, {len(parts.keys)} keys, {spread}"
    df.createOrReplaceTempView(RAW)
    return con.table(RAW)


# The number of input rows of the flat cohort last loaded on a Spark connection, known from
# reading it (Parquet footers, or the numbering's per-block counts): no query counts them again.
_ROWS_IN: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def rows_read(con: BaseBackend) -> int | None:
    """The input rows of the flat cohort last loaded on ``con``, if loading counted them."""
    return _ROWS_IN.get(con)


# Whether the flat cohort last loaded on a DuckDB connection numbers its rows 1 to N, N its rows:
# its last number is then known from its count, and no query looks for it (`numbered_one_to_n`).
_NUMBERED_ONE_TO_N: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def numbered_one_to_n(con: Any) -> bool:
    """Whether the rows of the flat cohort last loaded on the DuckDB connection ``con`` are
    numbered 1 to N (a Parquet or CSV cohort; not a FHIR export, whose numbers have gaps)."""
    return _NUMBERED_ONE_TO_N.get(con, False)


# One Parquet file without partition keys: the view's columns, and its read of the file, kept
# by the connection (`rows_numbered_in`).
_ONE_FILE_COLUMNS = "SELECT file_row_number + 1 AS row_number, * EXCLUDE (file_row_number)"
_ONE_FILE_READ: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def rows_numbered_in(con: Any, raw: str, numbers: str) -> str:
    """The SQL of the rows of the view ``raw`` (the flat cohort last loaded on the DuckDB
    connection ``con``) whose ``row_number`` is in the table ``numbers`` (its column
    ``row_number``): the same columns as ``raw``, the same rows.

    For one Parquet file, the file is joined on its own ``file_row_number``, not on the view's
    ``row_number`` (that number plus one): DuckDB then filters the file's scan by the numbers
    joined (a join filter reaches a scan's own column only), and decodes the other columns of
    the few rows kept. The rejects' read of a million rows: 0.136-0.140 s of CPU against
    0.147-0.160 s through the view (issue 16, stop 42)."""
    read = _ONE_FILE_READ.get(con)
    if read is None:
        return f"SELECT r.* FROM {raw} r SEMI JOIN {numbers} n ON r.row_number = n.row_number"
    return (
        f"{_ONE_FILE_COLUMNS} FROM {read} r "
        f"SEMI JOIN {numbers} n ON r.file_row_number = n.row_number - 1"
    )


# How the flat cohort last loaded on a Spark connection was read: what, besides the judging,
# shapes the plan Spark generates code for (`earlypath.audit.spark_code`).
_LAYOUTS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def loaded_layout(con: BaseBackend) -> str | None:
    """The format, files, partition keys and spreading of the flat cohort last loaded on the
    Spark connection ``con`` (None for a FHIR export)."""
    return _LAYOUTS.get(con)


def _read_spark(spark: Any, parts: Parts, fmt: Format) -> Any:
    """The part files' own columns: the files are given one by one, so Spark finds no
    partitions in their paths (the keys are added by `_number_rows_spark`)."""
    from earlypath.audit.spark_input import footer_schema

    files = parts.files
    names = [str(f) for f in files]
    if fmt == "csv":
        # Spark would read a ragged line, or a file that is not UTF-8, without a word: the
        # files are read once as the DuckDB loader reads them (same checks, same messages).
        check_csv_structure(parts)
        # RFC 4180, as DuckDB reads it: a quoted field may hold line breaks and doubled quotes
        # (Spark's defaults split such rows and take a backslash as the escape).
        return (
            spark.read.option("header", "true")
            .option("multiLine", "true")
            .option("quote", '"')
            .option("escape", '"')
            .csv(names)
        )
    # The same columns in every file: Spark would read the others' missing columns as NULL.
    parquet_row_counts(files, parts.names)
    # The schema from the first file's footer (every file has its columns): Spark's own read
    # of it is a job (`earlypath.audit.spark_input`).
    schema = footer_schema(files[0])
    return (spark.read if schema is None else spark.read.schema(schema)).parquet(*names)


def _number_rows_spark(spark: Any, df: Any, parts: Parts, fmt: Format) -> tuple[Any, int]:
    """``df`` with ``row_number`` in the input order, and the partition keys, without sorting
    the cohort; and the number of rows.

    Every row gets a (file, block, position), where the file is its path relative to the input
    folder (two partitions may each hold a part-00000), and the position counts up by one along
    the file within its block. Parquet: the row's index in its file (Spark's hidden
    ``_metadata.row_index``), one block per file. CSV has no row index: the block is the split
    of the file that Spark read the row from (``_metadata.file_block_start``) and the position
    the row's monotonically_increasing_id; one task reads a split, in file order, so the ids of
    a split are consecutive whatever the order Spark gives the splits (it orders them by size,
    not name). CSV is read with multiLine, which reads each file whole (one block), but the
    numbering does not rely on that. One small aggregate per (file, block) then gives each block
    its first number, joined back as a broadcast table with the file's partition values. A
    Parquet file is one block whose rows are its footer's count: no Spark job is needed (the
    file's name as Spark spells it comes from the DataFrame's list of input files), and when
    every row takes the same base (one file) the numbering is a single projection."""
    from pyspark.sql import functions as F

    keys = [f"_earlypath_key_{i}" for i in range(len(parts.keys))]
    _refuse_helper_names(df.columns, keys)
    # metadataColumn (Spark 4) finds the hidden column even if the data has one of that name.
    meta = df.metadataColumn("_metadata") if hasattr(df, "metadataColumn") else F.col("_metadata")
    if fmt == "parquet":
        block, position = F.lit(0).cast("long"), meta.getField("row_index")
    else:
        block, position = meta.getField("file_block_start"), F.monotonically_increasing_id()
    # Every file is at the same depth below the input folder: its relative path is the last
    # depth + 1 names of the path (still URI-encoded, as spark_block_bases expects).
    depth = len(parts.keys) + 1
    relative = F.concat_ws("/", F.slice(F.split(meta.getField("file_path"), "/"), -depth, depth))
    # The cohort's own columns are taken as `*`: a column named one by one is two calls into
    # the JVM (its Column, then its place in the list), and the numbering took ~850 of them.
    index = {name: i for i, name in enumerate(parts.names)}
    tagged = None
    if fmt == "csv":
        tagged = df.select(
            "*", relative.alias(_FILE), block.alias(_BLOCK), position.alias(_POSITION)
        ).cache()  # the aggregate and the result must see the same ids
        blocks = (
            tagged.groupBy(_FILE, _BLOCK)
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.min(_POSITION).alias("first"),
                F.max(_POSITION).alias("last"),
            )
            .collect()
        )
    else:
        counts = parquet_row_counts(parts.files, parts.names)
        blocks = []
        for name in (_relative_uri(uri, depth) for uri in df.inputFiles()):
            # (a name that is not an input file is refused by spark_block_bases)
            rows = counts[index[unquote(name)]] if unquote(name) in index else 0
            blocks.append((name, 0, rows, 0, rows - 1))
    rows_in = sum(int(b[2]) for b in blocks)
    by_block = [
        (*base, *parts.values[index[unquote(base[0])]])
        for base in spark_block_bases([Path(n) for n in parts.names], [tuple(b) for b in blocks])
    ]
    columns = [(_FILE, "string"), (_BLOCK, "long"), (_BASE, "long"), *[(k, "string") for k in keys]]
    constant = all(len({row[at] for row in by_block}) <= 1 for at in range(2, len(columns)))
    if tagged is None and constant:
        # One Parquet file (the usual case), or files whose rows all take one base and the
        # same keys (the others empty): the base and the keys are literals, and the numbering
        # is one projection of the read, analysed once by Spark (was three).
        first = by_block[0] if by_block else (None,) * len(columns)
        numbered = df.select(
            (position + F.lit(first[2]).cast("long") + 1).alias("row_number"),
            "*",
            *[F.lit(first[3 + i]).cast("string").alias(key) for i, key in enumerate(parts.keys)],
        )
        return numbered, rows_in
    if tagged is None:
        tagged = df.select(
            "*", relative.alias(_FILE), block.alias(_BLOCK), position.alias(_POSITION)
        )
    if len(by_block) <= _LITERAL_ROWS:
        # Few blocks (the usual case): each block's base and keys are literals in the query, no
        # join; a broadcast join ran a Spark job of its own to collect the small table.
        file_at, block_at = F.col(_FILE), F.col(_BLOCK)
        joined = tagged.select(
            "*",
            *[
                _by_block(by_block, i, name, kind, file_at, block_at)
                for i, (name, kind) in enumerate(columns)
                if i > 1
            ],
        )
    else:
        joined = tagged.join(F.broadcast(_local_table(spark, by_block, columns)), [_FILE, _BLOCK])
    numbered = joined.select(
        (F.col(_POSITION) + F.col(_BASE) + 1).alias("row_number"),
        "*",
        *[F.col(k).alias(key) for k, key in zip(keys, parts.keys, strict=True)],
    ).drop(_FILE, _BLOCK, _POSITION, _BASE, *keys)
    return numbered, rows_in


def _refuse_helper_names(names: list[str], keys: list[str]) -> None:
    """A cohort column named as one of the numbering's helper columns (Spark matches names
    case-blind) is refused, naming the column: the helpers are dropped by name, and a column
    of the same name would go with them (before, Spark failed on an ambiguous name)."""
    helpers = {n.casefold() for n in (_FILE, _BLOCK, _POSITION, _BASE, *keys)}
    for name in names:
        if name.casefold() in helpers:
            raise ValueError(
                f"column {name!r}: the name is taken by the audit's row numbering; rename it"
            )


def _by_block(
    rows: list[tuple[Any, ...]], at: int, name: str, kind: str, file: Any, block: Any
) -> Any:
    """Column ``name``: each (file, block)'s value ``row[at]``, picked by the row's own
    ``file`` and ``block`` (columns). One value for every block (one input file) is a constant.
    A row from a block not in ``rows`` (none: the blocks are the ones Spark reads) fails the
    query, as the join dropped it and the reconciliation then refused the audit."""
    from pyspark.sql import functions as F

    values = {row[at] for row in rows}
    if not rows:  # nothing was read (empty CSV files): no row asks
        return F.lit(None).cast(kind).alias(name)
    if len(values) == 1:
        return F.lit(next(iter(values))).cast(kind).alias(name)

    def here(row: tuple[Any, ...]) -> Any:
        return (file == F.lit(row[0])) & (block == F.lit(row[1]).cast("long"))

    picked = F.when(here(rows[0]), F.lit(rows[0][at]).cast(kind))
    for row in rows[1:]:
        picked = picked.when(here(row), F.lit(row[at]).cast(kind))
    unknown = F.raise_error(F.lit("Spark read a block of rows that is not an input block"))
    return picked.otherwise(unknown).alias(name)


# Up to this many rows, a small table is built by the JVM from literals (`_local_table`).
_LITERAL_ROWS = 256


def _local_table(spark: Any, rows: list[tuple[Any, ...]], columns: list[tuple[str, str]]) -> Any:
    """A small table of Python values as a Spark DataFrame. Up to `_LITERAL_ROWS` rows it is
    built in the JVM from literals: ``createDataFrame`` of a Python list is read back through a
    Python worker process, which Spark starts (0.5-1 s) just for this table."""
    if len(rows) > _LITERAL_ROWS:
        schema = ", ".join(f"{name} {kind}" for name, kind in columns)
        return spark.createDataFrame(rows, schema)
    from pyspark.sql import functions as F

    if not rows:
        return spark.range(0).select(*[F.lit(None).cast(t).alias(n) for n, t in columns])
    structs = [
        F.struct(*[F.lit(v).cast(t).alias(n) for v, (n, t) in zip(row, columns, strict=True)])
        for row in rows
    ]
    return spark.range(1).select(F.inline(F.array(*structs)))


def _relative_uri(uri: str, depth: int) -> str:
    """The last ``depth`` names of a file's URI, as the numbering's ``_FILE`` column takes them
    from ``_metadata.file_path`` (both are Spark's URI of the file)."""
    return "/".join(uri.split("/")[-depth:])


def spark_block_bases(
    files: list[Path], blocks: list[tuple[str, int, int, int, int]]
) -> list[tuple[str, int, int]]:
    """(file, block, base) for each ``blocks`` row (file, block, rows, first, last position), so
    that a row's number is its position + base + 1: the rows of earlier files, then of the
    file's earlier blocks, come before it. ``files`` are the input files by their path relative
    to the input folder; a block names its file by that path as Spark gives it, URI-encoded (a
    space is %20, and a folder's %20 is %2520)."""
    order = {f.as_posix(): index for index, f in enumerate(files)}
    by_file: dict[int, list[tuple[str, int, int, int, int]]] = {}
    for row in blocks:
        index = order.get(unquote(row[0]))
        if index is None:
            raise RuntimeError(f"Spark read a file that is not an input file: {row[0]}")
        by_file.setdefault(index, []).append(row)
    counts = [sum(b[2] for b in by_file.get(i, [])) for i in range(len(files))]
    bases = []
    for index, start in enumerate(rows_before(counts)):
        for name, block, rows, first, last in sorted(by_file.get(index, []), key=lambda b: b[1]):
            if last - first + 1 != rows:
                raise RuntimeError(
                    f"Spark did not read a block of {files[index].as_posix()} in order"
                )
            bases.append((name, block, start - first))
            start += rows
    return bases


def materialize(con: Any, expr: ir_t.Table, name: str) -> ir_t.Table:
    """Compute ``expr`` once and keep it (a DuckDB table; a cached Spark view)."""
    if con.name == "duckdb":
        con.raw_sql(f"CREATE OR REPLACE TABLE {name} AS {con.compile(expr)}")
        return con.table(name)
    df = con._session.sql(con.compile(expr)).cache()
    df.createOrReplaceTempView(name)
    return con.table(name)


def view(con: Any, expr: ir_t.Table, name: str) -> ir_t.Table:
    """``expr`` as a named view: queries on it then compile to a table reference, not to the
    whole expression again (ibis takes ~10 ms to compile a deep expression)."""
    sql = con.compile(expr)
    if con.name == "duckdb":
        con.raw_sql(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    else:
        con._session.sql(sql).createOrReplaceTempView(name)
    return con.table(name)


def fetch_arrow(con: Any, expr: ir_t.Expr) -> Any:
    """The result of a table or scalar expression as an Arrow table or scalar.

    On DuckDB this goes straight to the driver: ibis's own ``to_pyarrow`` imports pandas
    (0.2 s) to convert types the audit never uses."""
    if con.name == "pyspark":
        result = _spark_arrow(con, expr)
    elif con.name != "duckdb":
        return con.to_pyarrow(expr)
    else:
        result = con.con.sql(con.compile(expr)).to_arrow_table()
    import ibis.expr.types as ir_t  # (imported already: ``expr`` is an ibis expression)

    if isinstance(expr, ir_t.Scalar):
        return result.column(0)[0]
    return result


def _spark_arrow(con: Any, expr: ir_t.Expr) -> Any:
    """Spark's own Arrow result (Spark 4), cast to the expression's schema: ibis's
    ``to_pyarrow`` goes through pandas and back, a conversion per query the audit has no use for."""
    table = expr.as_table()
    df = con._session.sql(con.compile(table))
    if not hasattr(df, "toArrow"):  # Spark 3
        return con.to_pyarrow(table)
    return df.toArrow().cast(table.schema().to_pyarrow())


def arrow_batches(con: Any, expr: ir_t.Table, rows: int = 250_000) -> Any:
    """The result of ``expr`` as an iterator of Arrow record batches."""
    if con.name == "duckdb":
        yield from con.con.sql(con.compile(expr)).to_arrow_reader(rows)
        return
    yield from con.to_pyarrow_batches(expr, chunk_size=rows)
