"""Read a cohort into an engine as a raw table with ``row_number`` (1-based position in the input).

Inputs: a CSV file (read as text: every cell is checked by `validate`), a Parquet file (typed
columns are used as they are), a folder of CSV or Parquet part files (`earlypath.audit.parts`
defines their order: files by name, then rows in file order), or a folder of FHIR R4 bulk-export
NDJSON (flattened in DuckDB by `earlypath.audit.fhir_flat`; one row per Encounter, numbered in
the order of Encounter.ndjson). Engines: DuckDB (embedded) or PySpark (a local or given
SparkSession); the python reference engine reads through DuckDB.
"""

from __future__ import annotations

import atexit
import shutil
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import ibis
import ibis.expr.types as ir_t
from ibis.backends import BaseBackend

from earlypath.audit.flat import added_name_clashes
from earlypath.audit.parts import (
    SUFFIXES,
    csv_header,
    folder_format,
    input_files,
    parquet_row_counts,
    rows_before,
)
from earlypath.errors import InputError, Problem

__all__ = [
    "Format",
    "arrow_batches",
    "connect",
    "detect_format",
    "duckdb_connect",
    "fetch_arrow",
    "load_raw",
    "materialize",
    "spark_block_bases",
    "spark_session",
    "sql_text",
    "view",
]

Format = Literal["csv", "parquet", "fhir"]
RAW = "earlypath_raw_cohort"
SOURCE_FILE = "earlypath_source_file"  # a helper column, dropped before the engines see rows
# Helper columns of the Spark numbering (dropped from the result).
_FILE, _BLOCK, _POSITION, _BASE = (f"_earlypath_{n}" for n in ("file", "block", "position", "base"))


def detect_format(path: Path) -> Format:
    """csv or parquet (a file, or a folder of part files), or fhir (a folder with NDJSON)."""
    if path.is_dir():
        if any(path.glob("*.ndjson")):
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
    """A local SparkSession tuned for one machine (UI off, few shuffle partitions, UTC)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("earlypath-audit")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: str, spark: Any = None) -> BaseBackend:
    if engine == "spark":
        return ibis.pyspark.connect(spark or spark_session())
    return duckdb_connect()


def duckdb_connect() -> BaseBackend:
    """An in-memory DuckDB connection (its own progress bar off: the CLI shows Rich's)."""
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    return con


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_raw(con: BaseBackend, path: Path, fmt: Format | None = None) -> ir_t.Table:
    """The input as a table of its own columns plus ``row_number``."""
    fmt = fmt or detect_format(path)
    if fmt != "fhir":
        _refuse_added_names(input_files(path, fmt), fmt)
    if con.name == "duckdb":
        return _load_duckdb(con, path, fmt)
    if con.name == "pyspark":
        return _load_spark(con, path, fmt)
    raise ValueError(f"no loader for the {con.name} backend")


def _refuse_added_names(files: list[Path], fmt: Format) -> None:
    if fmt == "csv":
        columns = csv_header(files[:1])
    else:
        import pyarrow.parquet as pq

        try:
            columns = pq.ParquetFile(files[0]).schema_arrow.names
        except Exception as error:
            raise ValueError(
                f"{files[0].name} is not a readable Parquet file ({type(error).__name__})"
            ) from None
    clashes = added_name_clashes(columns)
    if clashes:
        raise InputError(
            [
                Problem(name, "is a name the audit gives to a column it adds: rename it")
                for name in clashes
            ]
        )


def _load_duckdb(con: Any, path: Path, fmt: Format) -> ir_t.Table:
    if fmt == "fhir":
        from earlypath.audit.fhir_flat import flatten_fhir_duckdb

        flatten_fhir_duckdb(con, path, RAW)
        return con.table(RAW)
    files = input_files(path, fmt)
    if fmt == "parquet":
        _parquet_view_duckdb(con, files, path.name)
    else:
        _csv_table_duckdb(con, files)
    return con.table(RAW)


def _parquet_view_duckdb(con: Any, files: list[Path], label: str) -> None:
    """A view reading the files in place (no copy of the cohort in memory). Each file numbers its
    own rows; for a folder, a small table of files adds the rows of the files before each."""
    starts = rows_before(parquet_row_counts(files))
    sources = "[" + ", ".join(sql_text(str(f)) for f in files) + "]"
    # The read_parquet options (not DuckDB's virtual columns of the same names) fail loudly if
    # the data has a column of that name, instead of silently numbering by the data's column.
    if len(files) == 1:  # the usual case, without a join
        select = (
            "SELECT file_row_number + 1 AS row_number, * EXCLUDE (file_row_number) "
            f"FROM read_parquet({sources}, file_row_number = true)"
        )
    else:
        con.raw_sql(f"CREATE OR REPLACE TABLE {RAW}_files (path VARCHAR, rows_before BIGINT)")
        con.raw_sql(
            f"INSERT INTO {RAW}_files VALUES "
            + ", ".join(f"({sql_text(str(f))}, {n})" for f, n in zip(files, starts, strict=True))
        )
        select = (
            "SELECT f.rows_before + p.file_row_number + 1 AS row_number, "
            f"p.* EXCLUDE (file_row_number, {SOURCE_FILE}) "
            f"FROM read_parquet({sources}, filename = '{SOURCE_FILE}', file_row_number = true) p "
            f"JOIN {RAW}_files f ON f.path = p.{SOURCE_FILE}"
        )
    try:
        con.raw_sql(f"CREATE OR REPLACE VIEW {RAW} AS {select}")
    except Exception as error:
        raise ValueError(
            f"{label} is not readable as Parquet by DuckDB ({type(error).__name__})"
        ) from None


def _csv_table_duckdb(con: Any, files: list[Path]) -> None:
    """Load the files one after another into one table: a table keeps the order rows were
    inserted in (DuckDB preserves insertion order), so its rowid numbers them."""
    if len(files) > 1:
        csv_header(files)
    for index, path in enumerate(files):
        read = f"SELECT * FROM read_csv({sql_text(str(path))}, all_varchar = true, header = true)"
        try:
            con.raw_sql(
                f"CREATE OR REPLACE TABLE {RAW}_t AS {read}"
                if index == 0
                else f"INSERT INTO {RAW}_t {read}"
            )
        except Exception as error:  # DuckDB's message quotes the offending line: never pass it on
            raise ValueError(
                f"{path.name} is not a readable CSV file ({type(error).__name__}: check its "
                "quoting, header and the number of fields on each line)"
            ) from None
    con.raw_sql(f"CREATE OR REPLACE VIEW {RAW} AS SELECT rowid + 1 AS row_number, * FROM {RAW}_t")


def _load_spark(con: Any, path: Path, fmt: Format) -> ir_t.Table:
    spark = con._session
    if fmt == "fhir":
        # The FHIR flattening is written for DuckDB's JSON reader: flatten there, hand Spark Parquet.
        import tempfile

        from earlypath.audit.fhir_flat import flatten_fhir_duckdb

        folder = Path(tempfile.mkdtemp(prefix="earlypath-fhir-"))
        atexit.register(shutil.rmtree, folder, True)  # Spark reads it lazily: remove at exit
        target = folder / "flat.parquet"
        dcon = duckdb_connect()
        flatten_fhir_duckdb(dcon, path, RAW)
        dcon.raw_sql(f"COPY (SELECT * FROM {RAW} ORDER BY row_number) TO {sql_text(str(target))}")
        df = spark.read.parquet(str(target))
    else:
        files = input_files(path, fmt)
        df = _number_rows_spark(spark, _read_spark(spark, files, fmt), files, fmt)
    df.createOrReplaceTempView(RAW)
    return con.table(RAW)


def _read_spark(spark: Any, files: list[Path], fmt: Format) -> Any:
    names = [str(f) for f in files]
    if fmt == "csv":
        if len(files) > 1:
            csv_header(
                files
            )  # Spark takes the columns from one file and reads the rest by position
        # RFC 4180, as DuckDB reads it: a quoted field may hold line breaks and doubled quotes
        # (Spark's defaults split such rows and take a backslash as the escape).
        return (
            spark.read.option("header", "true")
            .option("multiLine", "true")
            .option("quote", '"')
            .option("escape", '"')
            .csv(names)
        )
    parquet_row_counts(files)  # the same columns in every file: Spark would read others as NULL
    return spark.read.parquet(*names)


def _number_rows_spark(spark: Any, df: Any, files: list[Path], fmt: Format) -> Any:
    """``df`` with ``row_number`` in the input order, without sorting the cohort.

    Every row gets a (file, block, position), where the position counts up by one along the
    file within its block. Parquet: the row's index in its file (Spark's hidden
    ``_metadata.row_index``), one block per file. CSV has no row index: the block is the split
    of the file that Spark read the row from (``_metadata.file_block_start``) and the position
    the row's monotonically_increasing_id; one task reads a split, in file order, so the ids of
    a split are consecutive whatever the order Spark gives the splits (it orders them by size,
    not name). CSV is read with multiLine, which reads each file whole (one block), but the
    numbering does not rely on that. One small aggregate per (file, block) then gives each block
    its first number, joined back as a broadcast table."""
    from pyspark.sql import functions as F

    # metadataColumn (Spark 4) finds the hidden column even if the data has one of that name.
    meta = df.metadataColumn("_metadata") if hasattr(df, "metadataColumn") else F.col("_metadata")
    if fmt == "parquet":
        block, position = F.lit(0).cast("long"), meta.getField("row_index")
    else:
        block, position = meta.getField("file_block_start"), F.monotonically_increasing_id()
    tagged = df.select(
        *[_spark_column(c) for c in df.columns],
        meta.getField("file_name").alias(_FILE),
        block.alias(_BLOCK),
        position.alias(_POSITION),
    )
    if fmt == "csv":
        tagged = tagged.cache()  # the aggregate and the result must see the same ids
    blocks = (
        tagged.groupBy(_FILE, _BLOCK)
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.min(_POSITION).alias("first"),
            F.max(_POSITION).alias("last"),
        )
        .collect()
    )
    bases = spark.createDataFrame(
        spark_block_bases(files, [tuple(b) for b in blocks]),
        f"{_FILE} string, {_BLOCK} long, {_BASE} long",
    )
    joined = tagged.join(F.broadcast(bases), [_FILE, _BLOCK])
    return joined.select(
        (F.col(_POSITION) + F.col(_BASE) + 1).alias("row_number"),
        *[_spark_column(c) for c in df.columns],
    )


def _spark_column(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def spark_block_bases(
    files: list[Path], blocks: list[tuple[str, int, int, int, int]]
) -> list[tuple[str, int, int]]:
    """(file, block, base) for each ``blocks`` row (file, block, rows, first, last position), so
    that a row's number is its position + base + 1: the rows of earlier files, then of the
    file's earlier blocks, come before it. Spark names files URI-encoded (a space is %20)."""
    order = {f.name: index for index, f in enumerate(files)}
    by_file: dict[int, list[tuple[str, int, int, int, int]]] = {}
    for block in blocks:
        index = order.get(unquote(block[0]))
        if index is None:
            raise RuntimeError(f"Spark read a file that is not an input file: {block[0]}")
        by_file.setdefault(index, []).append(block)
    counts = [sum(b[2] for b in by_file.get(i, [])) for i in range(len(files))]
    bases = []
    for index, start in enumerate(rows_before(counts)):
        for name, block, rows, first, last in sorted(by_file.get(index, []), key=lambda b: b[1]):
            if last - first + 1 != rows:
                raise RuntimeError(f"Spark did not read a block of {files[index].name} in order")
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
    if con.name != "duckdb":
        return con.to_pyarrow(expr)
    result = con.con.sql(con.compile(expr)).to_arrow_table()
    if isinstance(expr, ir_t.Scalar):
        return result.column(0)[0]
    return result


def arrow_batches(con: Any, expr: ir_t.Table, rows: int = 250_000) -> Any:
    """The result of ``expr`` as an iterator of Arrow record batches."""
    if con.name == "duckdb":
        yield from con.con.sql(con.compile(expr)).to_arrow_reader(rows)
        return
    yield from con.to_pyarrow_batches(expr, chunk_size=rows)
