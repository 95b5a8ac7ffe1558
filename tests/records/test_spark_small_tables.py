"""The small tables made from Python values on Spark (the value codes, the merged Patient ids)
are stored in the JVM when registered: a scan of them runs no Python worker.

A DataFrame of a Python list is a Python RDD: before stop 49 each Spark job that scanned such a
view (each of the reading's statements that matches codes) sent its rows through a Python
worker process again. The rows are the same either way; this holds where they come from.
"""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from earlypath.audit.fhir_read import _merged_table
from earlypath.records.merges import Merges
from earlypath.records.value_codes import value_codes_table
from tests.conftest_spark import spark  # noqa: F401 - the shared session fixture

pytestmark = pytest.mark.spark


def _lineage(session: Any, name: str) -> str:
    """The RDD lineage a scan of the view ``name`` runs."""
    return str(session.table(name)._jdf.queryExecution().toRdd().toDebugString())


def test_the_value_codes_are_scanned_from_the_jvm(spark: Any) -> None:  # noqa: F811
    table = value_codes_table(ibis.pyspark.connect(spark))
    lineage = _lineage(spark, table.get_name())
    assert "PythonRDD" not in lineage, lineage
    assert table.count().to_pyarrow().as_py() > 1000  # every code of every value set


def test_the_merged_patient_ids_are_scanned_from_the_jvm(spark: Any) -> None:  # noqa: F811
    merges = Merges(survivor={"old-1": "new-1", "old-2": "new-1"})
    name = _merged_table(ibis.pyspark.connect(spark), "small_tables_merged", merges)
    lineage = _lineage(spark, name)
    assert "PythonRDD" not in lineage, lineage
    rows = sorted(tuple(r) for r in spark.table(name).collect())
    assert rows == [("old-1", "new-1"), ("old-2", "new-1")]
