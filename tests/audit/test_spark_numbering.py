"""The Spark loading's row numbering: its cost does not grow with the cohort's columns, and a
column named as one of its helper columns is refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from py4j.protocol import MEMORY_COMMAND_NAME as MEMORY_COMMAND

from earlypath.audit.load import connect, load_raw
from earlypath.synth import write_cohort
from tests.conftest_spark import spark  # noqa: F401  (the shared session fixture)

pytestmark = pytest.mark.spark


@contextmanager
def jvm_calls(session: Any) -> Iterator[list[int]]:
    """The py4j calls made into the JVM inside the block (one count, in a list)."""
    client = session.sparkContext._gateway._gateway_client
    send = client.send_command
    made = [0]

    def counting(command: str, *args: Any, **kwargs: Any) -> Any:
        # (not py4j's deletions of Java objects Python has dropped: they follow the collector)
        if not command.startswith(MEMORY_COMMAND):
            made[0] += 1
        return send(command, *args, **kwargs)

    client.send_command = counting
    try:
        yield made
    finally:
        client.send_command = send


def _with_extra_columns(source: Path, target: Path, extra: int) -> Path:
    table = pq.read_table(source)
    for i in range(extra):
        table = table.append_column(f"note_{i}", pa.array(["x"] * table.num_rows))
    pq.write_table(table, target)
    return target


def _calls_to_load(session: Any, path: Path) -> int:
    con = connect("spark", session)
    with jvm_calls(session) as made:
        load_raw(con, path)
    return made[0]


def test_numbering_calls_the_jvm_as_often_whatever_the_columns(
    spark: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Each cohort column named one by one cost two py4j calls per projection (three of them):
    ~850 calls for the synthetic cohort. Now the columns are taken as `*`."""
    plain = write_cohort(200, 3, "parquet", tmp_path / "plain.parquet")
    wide = _with_extra_columns(plain, tmp_path / "wide.parquet", 60)
    _calls_to_load(spark, plain)  # (a first load warms what is loaded once a session)
    assert _calls_to_load(spark, wide) == _calls_to_load(spark, plain)


@pytest.mark.parametrize("name", ["_earlypath_file", "_EarlyPath_Base", "_earlypath_position"])
@pytest.mark.parametrize("parts", [1, 2])
def test_a_column_named_as_a_numbering_helper_is_refused_by_name(
    spark: Any,  # noqa: F811
    tmp_path: Path,
    name: str,
    parts: int,
) -> None:
    table = pq.read_table(write_cohort(40, 5, "parquet", tmp_path / "cohort.parquet"))
    table = table.append_column(name, pa.array(["secret"] * table.num_rows))
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(parts):  # two files: the numbering's join of blocks, not one projection
        pq.write_table(table.slice(20 * i, 40 // parts), folder / f"part-{i}.parquet")
    with pytest.raises(ValueError, match=f"column '{name}'") as error:
        load_raw(connect("spark", spark), folder)
    assert "secret" not in str(error.value)
