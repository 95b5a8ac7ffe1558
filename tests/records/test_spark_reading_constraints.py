"""The reading's statements are planned and stored on Spark with Catalyst's constraint
propagation off (`ibis_compile._store`), and the session's own setting is given back.

Why: `localCheckpoint` asks for the constraints of each statement's whole optimised plan, and
inferring them through the aliases the reading's row stages stack never finished on the
malformed-Observation stage once the tied-panel lengths were read (stop 32, HAZ-20 C20.22: a
2.5 GB driver in GC in `getAllValidConstraints`). The reading itself is checked on Spark by
tests/audit/test_spark_reading_agreement.py (its read scenarios, `length-versions` among them).
"""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from earlypath.records import ibis_compile
from tests.conftest_spark import spark  # noqa: F401

pytestmark = pytest.mark.spark

SETTING = "spark.sql.constraintPropagation.enabled"
# Spark writes a setting's value into the statement where it reads ``${name}``
# (spark.sql.variable.substitute), so the stored row tells what the statement was planned with
AS_PLANNED = f"SELECT '${{{SETTING}}}' AS v"


def _stored(session: Any, name: str) -> str:
    ibis_compile._store(ibis.pyspark.connect(session), name, AS_PLANNED)
    return str(session.table(name).collect()[0]["v"])


def test_a_statement_of_the_reading_is_planned_without_constraint_propagation(
    spark: Any,  # noqa: F811
) -> None:
    spark.conf.unset(SETTING)
    assert _stored(spark, "constraints_unset") == "false"
    assert spark.conf.get(SETTING, None) is None  # the session as it was: not set


def test_the_sessions_own_setting_is_given_back(spark: Any) -> None:  # noqa: F811
    spark.conf.set(SETTING, "true")
    try:
        assert _stored(spark, "constraints_set") == "false"
        assert spark.conf.get(SETTING) == "true"
    finally:
        spark.conf.unset(SETTING)
