"""One local SparkSession for every Spark test (a session takes ~10 s to start).

Import the fixture into a test module or conftest: ``from tests.conftest_spark import spark``.
getOrCreate hands every importer the same session; it is stopped once, at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

_session: Any = None


def spark_session() -> Any:
    global _session
    if _session is None:
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.skip("PySpark needs Java (make system-deps installs it)")
        from pyspark.sql import SparkSession

        from earlypath.audit.load import spark_local_settings

        # The audit's own local settings (one definition), with its driver memory (4g): with 2g the
        # agreement modules' readings of stop 52's women spent 1,334 s in full collections (CI 2).
        settings = {**spark_local_settings("local[2]"), "spark.driver.memory": "4g"}
        builder = SparkSession.builder.master("local[2]").appName("earlypath-tests")
        for key, value in settings.items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
        _session.sparkContext.setLogLevel("ERROR")
        atexit.register(_session.stop)
    return _session


@pytest.fixture(scope="session")
def spark() -> Any:
    return spark_session()


# Spark without generated code: plans run by its interpreted operators and expressions. For the
# agreement modules' one reading of a small export (a few hundred rows, 119 large statements),
# generating and compiling each statement's Java code cost more than it saves (docs/speed.md,
# "the test suite", stop 41). Code generation changes how rows are computed, never which:
# Spark's own tests run every expression both ways.
INTERPRETED = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


# The agreement modules' readings, besides running interpreted: a few hundred rows in 133
# statements, where the fixed cost per statement is the cost (stop 47, docs/speed.md). Each
# setting changes how Spark computes rows, never which:
# - one shuffle partition (the audit's session has one per core): half the tasks of every
#   shuffle; rows come out of a shuffle in another order, and no statement of the reading relies
#   on Spark's order (its lists are ordered by their own keys; the checks sort the problems);
# - no common subexpression elimination: an expression used twice in a row's projection is
#   computed twice instead of once, and a deterministic expression gives the same value both
#   times (Spark never eliminates a non-deterministic one); finding the repeats in the
#   reading's huge projections cost more than computing them for a few hundred rows;
# - no runtime Bloom filters: `InjectRuntimeFilter` adds a filter before a join that can only
#   drop rows the join drops.
FEW_ROWS = {
    "spark.sql.shuffle.partitions": "1",
    "spark.sql.subexpressionElimination.enabled": "false",
    "spark.sql.optimizer.runtime.bloomFilter.enabled": "false",
}
# What the agreement modules' fixtures run their Spark side with.
AGREEMENT = {**INTERPRETED, **FEW_ROWS}


@contextmanager
def session_settings(session: Any, settings: dict[str, str]) -> Iterator[None]:
    """``settings`` set on the shared ``session`` for the block, each key's own value (or its
    absence) given back after, so the other Spark tests of the worker keep the audit's."""
    before = {key: session.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        session.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                session.conf.unset(key)
            else:
                session.conf.set(key, value)
