"""How the Spark audit reads a flat cohort without paying for what it already knows.

- **The schema from the footer.** ``spark.read.parquet`` runs a Spark job to read a file's
  schema (on a cold JVM, the audit's slowest job for its size). The footer is read by pyarrow
  anyway (`earlypath.audit.parts.parquet_row_counts`), so its Parquet types are turned into the
  Spark types Spark itself would infer, for the plain column types a cohort has; for anything
  else (nested, unsigned, timestamps, old-style type annotations) Spark infers it as before.
- **Every core judges.** Spark reads a Parquet row group, or a whole CSV file, in one task: a
  cohort in one row group (pyarrow writes up to 1Mi rows in one) is judged by one core whatever
  the master. When the input has fewer pieces than cores, its numbered rows are spread into one
  partition per core, each a run of consecutive row numbers (`spread_rows`): a shuffle in the
  same job, with no sampling job (the runs are cut from the known row count) and the write
  still joins runs that do not overlap (`earlypath.audit.spark_audit.write_in_order`).
- **The repeated ids of a Parquet cohort by DuckDB.** The judging needs them first (a list of
  the few ids that occur twice); on Spark that was a query of its own, two jobs and a shuffle
  on a cold JVM. DuckDB reads the ``episode_id`` column of the same files with the same loader
  and the same expression (`earlypath.audit.validate.repeated_ids`) in a fraction of a second.
  Spark still checks and judges every row; when many ids repeat (a table, not a list), or the
  input is CSV, Spark finds them itself as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = [
    "SPREAD_MIN_ROWS",
    "footer_schema",
    "input_pieces",
    "spark_hash_long",
    "spread_rows",
]

# Below this many rows one core judges the cohort in well under a second: no shuffle.
SPREAD_MIN_ROWS = 20_000


def footer_schema(path: Path) -> Any | None:
    """The Spark schema Spark would infer for a Parquet file, from its footer; None when a
    column's type is not one of the plain ones mapped here (Spark then infers it itself)."""
    import pyarrow.parquet as pq
    from pyspark.sql import types as T

    schema = pq.ParquetFile(path).metadata.schema
    # Only top-level columns: a nested one's leaves have paths "column.field".
    if [schema.column(i).path for i in range(len(schema))] != schema.to_arrow_schema().names:
        return None
    fields = []
    for index in range(len(schema)):
        column = schema.column(index)
        kind = _spark_type(column) if column.max_repetition_level == 0 else None
        if kind is None:
            return None
        # A file source's columns are all nullable, whatever the file says.
        fields.append(T.StructField(column.name, kind, True))
    return T.StructType(fields)


def _spark_type(column: Any) -> Any | None:
    """Spark's type for one Parquet leaf column (as its ParquetToSparkSchemaConverter maps
    them, with the default settings), or None for a type left to Spark."""
    from pyspark.sql import types as T

    logical = json.loads(column.logical_type.to_json())
    kind, physical = logical["Type"], column.physical_type
    if kind == "None":
        if column.converted_type != "NONE":  # an old writer's annotation: Spark's own rules
            return None
        plain = {
            "BOOLEAN": T.BooleanType(),
            "INT32": T.IntegerType(),
            "INT64": T.LongType(),
            "FLOAT": T.FloatType(),
            "DOUBLE": T.DoubleType(),
            "BYTE_ARRAY": T.BinaryType(),
        }
        return plain.get(physical)
    if kind == "String" and physical == "BYTE_ARRAY":
        return T.StringType()
    if kind == "Date" and physical == "INT32":
        return T.DateType()
    if kind == "Int" and logical.get("isSigned"):
        sized = {
            ("INT32", 8): T.ByteType(),
            ("INT32", 16): T.ShortType(),
            ("INT32", 32): T.IntegerType(),
            ("INT64", 64): T.LongType(),
        }
        return sized.get((physical, logical.get("bitWidth")))
    if kind == "Decimal" and 0 < column.precision <= 38:
        return T.DecimalType(column.precision, column.scale)
    return None


def input_pieces(files: list[Path], fmt: str) -> int:
    """The most tasks Spark can read the input in: its Parquet row groups, or its CSV files (read
    whole: the audit reads CSV with multiLine)."""
    if fmt != "parquet":
        return len(files)
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_row_groups for f in files)


def spread_rows(spark: Any, df: Any, rows: int, pieces: int) -> Any:
    """``df`` (with ``row_number`` from 1 to ``rows``) in one partition per core, partition i
    holding the i-th run of consecutive row numbers, when the input has fewer pieces than cores
    and enough rows to be worth a shuffle; else ``df`` itself.

    A range repartition would first run a job to sample the row numbers; here the runs are cut
    from the known count, and each run is given a key that Spark's hash partitioning sends to
    its own partition (found with Spark's hash function, `spark_hash_long`)."""
    from pyspark.sql import functions as F

    cores = spark.sparkContext.defaultParallelism
    if cores < 2 or pieces >= cores or rows < SPREAD_MIN_ROWS:
        return df
    keys = _partition_keys(cores)
    run = (F.col("row_number") - 1) * cores / F.lit(rows)
    key = F.element_at(
        F.array(*[F.lit(k).cast("long") for k in keys]), F.floor(run).cast("int") + 1
    )
    # (the key is an expression, not a column: the rows keep their columns, so no projection
    # naming each one is needed, which cost two calls into the JVM a column)
    return df.repartition(cores, key)


def _partition_keys(partitions: int) -> list[int]:
    """For each partition, a long that Spark's hash partitioning sends there."""
    found: dict[int, int] = {}
    key = 0
    while len(found) < partitions:
        found.setdefault(spark_hash_long(key) % partitions, key)  # Spark's pmod
        key += 1
    return [found[p] for p in range(partitions)]


_MASK = 0xFFFFFFFF


def spark_hash_long(value: int, seed: int = 42) -> int:
    """Spark's ``hash()`` of one BIGINT (Murmur3 x86 32-bit of its two halves, seed 42), as its
    HashPartitioning computes it; checked against Spark in the tests."""

    def mix(h1: int, k1: int) -> int:
        k1 = (k1 * 0xCC9E2D51) & _MASK
        k1 = ((k1 << 15) | (k1 >> 17)) & _MASK
        k1 = (k1 * 0x1B873593) & _MASK
        h1 ^= k1
        h1 = ((h1 << 13) | (h1 >> 19)) & _MASK
        return (h1 * 5 + 0xE6546B64) & _MASK

    value &= 0xFFFFFFFFFFFFFFFF
    h1 = mix(mix(seed & _MASK, value & _MASK), value >> 32)
    h1 ^= 8  # the length in bytes
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & _MASK
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & _MASK
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 >= 1 << 31 else h1
