"""The local Spark session's settings follow its master's cores (one test reads them back
from a started JVM)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from earlypath.audit.load import spark_cores, spark_local_settings


@pytest.mark.parametrize(
    ("master", "cores"),
    [("local", 1), ("local[1]", 1), ("local[2]", 2), ("local[8]", 8), ("local[2, 3]", 2)],
)
def test_cores_are_read_from_a_local_master(master: str, cores: int) -> None:
    assert spark_cores(master) == cores


def test_local_star_means_every_core_of_the_machine() -> None:
    assert spark_cores("local[*]") == (os.cpu_count() or 1)


@pytest.mark.parametrize("master", ["yarn", "spark://host:7077", "local[x]", ""])
def test_a_master_that_is_not_local_is_refused_by_name(master: str) -> None:
    with pytest.raises(ValueError, match="local master"):
        spark_cores(master)


@pytest.mark.parametrize("master", ["local[1]", "local[2]", "local[4]"])
def test_shuffles_and_splits_get_one_partition_per_core(master: str) -> None:
    settings = spark_local_settings(master)
    cores = str(spark_cores(master))
    assert settings["spark.sql.shuffle.partitions"] == cores
    assert settings["spark.default.parallelism"] == cores
    assert settings["spark.sql.files.minPartitionNum"] == cores


def test_local_runs_have_no_ui_and_no_hive_catalog_and_read_dates_in_utc() -> None:
    settings = spark_local_settings("local[2]")
    assert settings["spark.ui.enabled"] == "false"
    assert settings["spark.sql.catalogImplementation"] == "in-memory"
    assert settings["spark.sql.session.timeZone"] == "UTC"


def test_the_local_jvm_compiles_with_its_quick_compiler_only() -> None:
    """An audit is too short for the JVM's optimising compiler to pay back its CPU."""
    options = spark_local_settings("local[2]")["spark.driver.extraJavaOptions"].split()
    assert "-XX:TieredStopAtLevel=1" in options


def test_local_runs_have_no_adaptive_execution() -> None:
    """With a shuffle partition per core there is nothing to merge, and adaptive execution runs
    every shuffle stage as a Spark job of its own (a fixed cost each)."""
    assert spark_local_settings("local[2]")["spark.sql.adaptive.enabled"] == "false"


def test_local_runs_leave_out_the_costly_optimizer_rule_that_does_nothing_here() -> None:
    excluded = spark_local_settings("local[2]")["spark.sql.optimizer.excludedRules"]
    assert "org.apache.spark.sql.catalyst.optimizer.FoldablePropagation" in excluded.split(",")


# Rules that walk the whole judging plan on the driver before the job, for constructs the
# audit's queries never hold (docs/speed.md, Spark twenty-third round).
NO_OP_RULES = (
    "org.apache.spark.sql.catalyst.optimizer.RemoveRedundantAliases",
    "org.apache.spark.sql.execution.datasources.PruneFileSourcePartitions",
    "org.apache.spark.sql.catalyst.optimizer.OptimizeOneRowRelationSubquery",
    "org.apache.spark.sql.catalyst.optimizer.MergeScalarSubqueries",
    "org.apache.spark.sql.catalyst.optimizer.ObjectSerializerPruning",
)


def test_local_runs_leave_out_the_optimizer_rules_with_nothing_to_rewrite() -> None:
    excluded = spark_local_settings("local[2]")["spark.sql.optimizer.excludedRules"].split(",")
    assert set(NO_OP_RULES) <= set(excluded)


def test_the_started_jvm_leaves_out_every_rule_excluded(spark: Any) -> None:
    """Spark ignores, with a warning only, an excluded rule a query needs or one it does not
    know (a misspelt or renamed class): each one named must be a rule the optimiser runs and
    may leave out."""
    session = spark._jsparkSession
    optimizer = session.sessionState().optimizer()
    convert = spark.sparkContext._jvm.scala.jdk.javaapi.CollectionConverters
    needed = {str(rule) for rule in convert.asJava(optimizer.nonExcludableRules())}
    known = {
        str(rule.ruleName())
        for batch in convert.asJava(optimizer.defaultBatches())
        for rule in convert.asJava(batch.rules())
    }
    excluded = spark.conf.get("spark.sql.optimizer.excludedRules").split(",")
    assert set(NO_OP_RULES) <= set(excluded)
    for rule in excluded:
        assert rule in known, rule
        assert rule not in needed, rule


def test_the_local_jvm_compiles_sooner_than_its_defaults() -> None:
    """A cold JVM interprets Spark's planner until it compiles it: the quick compiler is asked
    to start after fewer calls (defaults: 200 calls, 2,000 calls and loop turns)."""
    options = spark_local_settings("local[2]")["spark.driver.extraJavaOptions"].split()
    thresholds = dict(o.removeprefix("-XX:").split("=") for o in options if "Threshold=" in o)
    assert int(thresholds["Tier3InvocationThreshold"]) < 200
    assert int(thresholds["Tier3CompileThreshold"]) < 2000


def test_the_tasks_sort_and_write_buffers_live_outside_the_jvm_heap() -> None:
    """On the heap, the tasks' sort buffers were copied by every young collection and filled
    the old generation (full collections stopping every task): GC is serial time."""
    settings = spark_local_settings("local[2]")
    assert settings["spark.memory.offHeap.enabled"] == "true"
    size = settings["spark.memory.offHeap.size"]
    assert size.endswith("g") and int(size[:-1]) >= 1


def test_the_quick_compiler_keeps_the_full_size_code_cache() -> None:
    """With the quick compiler only, the JVM's default code cache is 48 MB; a long-lived
    session filled it and a query failed ("Out of space in CodeCache")."""
    options = spark_local_settings("local[2]")["spark.driver.extraJavaOptions"].split()
    sizes = [o.split("=")[1] for o in options if o.startswith("-XX:ReservedCodeCacheSize=")]
    assert sizes and sizes[0].endswith("m") and int(sizes[0][:-1]) >= 240


def test_the_started_jvm_has_the_full_size_code_cache(spark: Any) -> None:
    """The setting reaches the JVM the session runs in (read back from the JVM itself)."""
    jvm = spark.sparkContext._jvm
    pools = jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans()
    code_cache = [p for p in pools if "CodeCache" in p.getName() or "CodeHeap" in p.getName()]
    assert code_cache, [p.getName() for p in pools]
    reserved = sum(p.getUsage().getMax() for p in code_cache)
    assert reserved >= 240 * 1024 * 1024


def test_the_local_jvm_compiles_methods_over_its_huge_method_limit() -> None:
    """The judging stage's generated processNext is over the JVM's 8,000-byte limit: without
    this it is never compiled, and every row of the judging runs in the interpreter."""
    options = spark_local_settings("local[2]")["spark.driver.extraJavaOptions"].split()
    assert "-XX:-DontCompileHugeMethods" in options


def test_the_started_jvm_compiles_huge_methods(spark: Any) -> None:
    """The setting reaches the JVM the session runs in (read back from the JVM itself)."""
    jvm = spark.sparkContext._jvm
    diagnostic = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    assert diagnostic.getVMOption("DontCompileHugeMethods").getValue() == "false"


def test_the_local_jvm_collects_for_class_metadata_only_past_256_mb() -> None:
    """An audit loads some 60 MB of class metadata: from the JVM's default threshold (about
    21 MB) it ran three full collections that freed nothing, every thread stopped."""
    options = spark_local_settings("local[2]")["spark.driver.extraJavaOptions"].split()
    sizes = [o.split("=")[1] for o in options if o.startswith("-XX:MetaspaceSize=")]
    assert sizes and sizes[0].endswith("m") and int(sizes[0][:-1]) >= 256


def test_the_started_jvm_collects_for_class_metadata_only_past_256_mb(spark: Any) -> None:
    """The setting reaches the JVM the session runs in (read back from the JVM itself)."""
    jvm = spark.sparkContext._jvm
    diagnostic = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    assert int(diagnostic.getVMOption("MetaspaceSize").getValue()) >= 256 * 1024 * 1024
