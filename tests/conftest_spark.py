"""One local SparkSession for every Spark test (a session takes ~10 s to start).

Import the fixture into a test module or conftest: ``from tests.conftest_spark import spark``.
getOrCreate hands every importer the same session; it is stopped once, at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
from typing import Any

import pytest

_session: Any = None


def spark_session() -> Any:
    global _session
    if _session is None:
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.skip("PySpark needs Java (make system-deps installs it)")
        from pyspark.sql import SparkSession

        _session = (
            SparkSession.builder.master("local[2]")
            .appName("earlypath-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        _session.sparkContext.setLogLevel("ERROR")
        atexit.register(_session.stop)
    return _session


@pytest.fixture(scope="session")
def spark() -> Any:
    return spark_session()
