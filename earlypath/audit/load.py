"""Read a cohort into an engine as a raw table with ``row_number`` (1-based position in the input).

Inputs: a CSV file (read as text: every cell is checked by `validate`), a Parquet file (typed
columns are used as they are), or a folder of FHIR R4 bulk-export NDJSON (flattened in DuckDB by
`earlypath.audit.fhir_flat`; one row per Encounter, numbered in the order of Encounter.ndjson).
Engines: DuckDB (embedded) or PySpark (a local or given SparkSession).
"""

from __future__ import annotations

import atexit
import shutil
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir_t
from ibis.backends import BaseBackend

__all__ = [
    "Format",
    "arrow_batches",
    "connect",
    "detect_format",
    "duckdb_connect",
    "fetch_arrow",
    "load_raw",
    "materialize",
    "spark_session",
    "sql_text",
    "view",
]

Format = Literal["csv", "parquet", "fhir"]
RAW = "earlypath_raw_cohort"


def detect_format(path: Path) -> Format:
    if path.is_dir():
        if any(path.glob("*.ndjson")):
            return "fhir"
        raise ValueError(f"{path} is a folder without FHIR NDJSON files")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ValueError(f"{path}: cannot tell the format (expected .csv, .parquet or a FHIR folder)")


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
    if con.name == "duckdb":
        return _load_duckdb(con, path, fmt)
    if con.name == "pyspark":
        return _load_spark(con, path, fmt)
    raise ValueError(f"no loader for the {con.name} backend")


def _load_duckdb(con: Any, path: Path, fmt: Format) -> ir_t.Table:
    if fmt == "fhir":
        from earlypath.audit.fhir_flat import flatten_fhir_duckdb

        flatten_fhir_duckdb(con, path, RAW)
        return con.table(RAW)
    source = sql_text(str(path))
    if fmt == "parquet":
        # Parquet numbers its own rows: read it in place, no copy of the cohort in memory.
        try:
            con.raw_sql(
                f"CREATE OR REPLACE VIEW {RAW} AS SELECT file_row_number + 1 AS row_number, "
                f"* EXCLUDE (file_row_number) FROM read_parquet({source}, file_row_number = true)"
            )
            con.raw_sql(f"SELECT count(*) FROM {RAW}").fetchall()
        except Exception as error:
            raise ValueError(
                f"{path.name} is not a readable Parquet file ({type(error).__name__})"
            ) from None
        return con.table(RAW)
    # A table keeps the input's order (DuckDB preserves insertion order), so rowid numbers rows.
    try:
        con.raw_sql(
            f"CREATE OR REPLACE TABLE {RAW}_t AS "
            f"SELECT * FROM read_csv({source}, all_varchar = true, header = true)"
        )
    except Exception as error:  # DuckDB's message quotes the offending line: never pass it on
        raise ValueError(
            f"{path.name} is not a readable CSV file ({type(error).__name__}: check its "
            "quoting, header and the number of fields on each line)"
        ) from None
    con.raw_sql(f"CREATE OR REPLACE VIEW {RAW} AS SELECT rowid + 1 AS row_number, * FROM {RAW}_t")
    return con.table(RAW)


def _load_spark(con: Any, path: Path, fmt: Format) -> ir_t.Table:
    from pyspark.sql import functions as F

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
        reader = spark.read.option("header", "true") if fmt == "csv" else spark.read
        df = reader.csv(str(path)) if fmt == "csv" else reader.parquet(str(path))
        # Number rows in input order without a global sort: monotonically_increasing_id holds the
        # partition in its upper bits and the position within it in the lower 33; file splits are
        # in file order, so a row's number is its position plus the rows of earlier partitions.
        df = df.withColumn("_mid", F.monotonically_increasing_id()).cache()
        counts = {
            r["p"]: r["n"]
            for r in df.groupBy(F.shiftright("_mid", 33).alias("p"))
            .agg(F.count(F.lit(1)).alias("n"))
            .collect()
        }
        offset, offsets = 0, {}
        for part in sorted(counts):
            offsets[part] = offset
            offset += counts[part]
        start = F.lit(0)
        for part, value in offsets.items():
            start = F.when(F.shiftright("_mid", 33) == part, F.lit(value)).otherwise(start)
        df = df.select(
            ((F.col("_mid").bitwiseAND((1 << 33) - 1)) + start + 1).alias("row_number"),
            *[c for c in df.columns if c != "_mid"],
        )
    df.createOrReplaceTempView(RAW)
    return con.table(RAW)


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
