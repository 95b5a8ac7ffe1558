"""The order the suite's files are handed to xdist's workers: the longest first.

`make test` runs ``--dist loadfile --no-loadscope-reorder``: each file goes whole to one worker,
in the order collected. Left to itself xdist hands out the files with the most tests first, and
the Spark modules (few tests, minutes each) came last: one worker ran them alone at the end
while the other sat idle. Handing out the longest files first (measured seconds, kept in
`module_seconds.json`, rewritten by ``python -m tests.module_seconds <log of --durations=0>``)
lets the short ones fill in around them. A file not in the list runs after the listed ones, in
collection order; the order never changes which tests run, only when.
"""

from __future__ import annotations

import pytest

from tests.module_seconds import load_module_seconds


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seconds = load_module_seconds()
    # A stable sort: the tests of a file keep their order, and so do files of equal cost.
    items.sort(key=lambda item: -seconds.get(item.nodeid.split("::", 1)[0], 0.0))
