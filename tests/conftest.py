"""The order the suite's files are handed to xdist's workers: the longest first.

`make test` runs ``--dist loadfile --no-loadscope-reorder``: each file goes whole to one worker,
in the order collected. Left to itself xdist hands out the files with the most tests first, and
the Spark modules (few tests, minutes each) came last: one worker ran them alone at the end
while the other sat idle. Handing out the longest files first (measured seconds, kept in
`module_seconds.json`, rewritten by ``python -m tests.module_seconds <log of --durations=0>``)
lets the short ones fill in around them. A file not in the list runs after the listed ones, in
collection order; the order never changes which tests run, only when.

The two Spark agreement modules go to one worker as one unit (`OneJvmForTheSparkModules`): the
session's JVM is then started once for both, and the second module's reading parses its Spark
SQL against the parser's cache the first one warmed, where on two workers each started a JVM
and parsed cold (and each held a 4g heap at once). Every other file is still a unit of its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.module_seconds import load_module_seconds

# Files run by one xdist worker, one after the other, as one unit of `--dist loadfile`.
ONE_JVM = ("tests/audit/test_spark_agreement.py", "tests/audit/test_spark_reading_agreement.py")


@pytest.hookimpl(optionalhook=True)  # (an xdist hook: no error when xdist is not loaded)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadfile``, xdist's file scheduling with the `ONE_JVM` files as one unit;
    any other mode is left to xdist."""
    if config.getoption("dist", None) != "loadfile":
        return None
    return _one_jvm_scheduling()(config, log)


def _one_jvm_scheduling() -> Any:
    from xdist.scheduler import LoadFileScheduling

    class OneJvmForTheSparkModules(LoadFileScheduling):  # type: ignore[misc]
        """A test's unit is its file, but the `ONE_JVM` files share the first one's."""

        def _split_scope(self, nodeid: str) -> str:
            file = super()._split_scope(nodeid)
            return ONE_JVM[0] if file in ONE_JVM else file

    return OneJvmForTheSparkModules


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seconds = load_module_seconds()
    # A stable sort: the tests of a file keep their order, and so do files of equal cost.
    items.sort(key=lambda item: -seconds.get(item.nodeid.split("::", 1)[0], 0.0))
