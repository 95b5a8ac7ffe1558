"""`reducer_of_one`: the aggregate of a single row's item, as `reducer` gives it (the Days
step reads a day of one finding with it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from earlypath.records.aggregates import reducer, reducer_of_one

OPS = ("any", "all", "max", "min", "count_distinct", "latest", "collect")
VALUES: tuple[Any, ...] = (None, True, False, 0, 1, -2, 2.5, 0.0, "", "x", dt.date(2024, 3, 1))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("order", [(), (None,), (dt.date(2024, 3, 1), 2)], ids=repr)
def test_one_row_as_the_reducer(op: str, value: Any, order: tuple[Any, ...]) -> None:
    row = {"ref": "Observation/o1", "n": 1}
    expected = reducer(op)([(row, value, order)])
    got = reducer_of_one(op)(row, value)
    assert got == expected
    assert type(got[0]) is type(expected[0])  # True is not 1, 0 is not False
    assert got[1] == expected[1] and all(a is b for a, b in zip(got[1], expected[1], strict=True))


def test_unknown_aggregate_refused() -> None:
    with pytest.raises(ValueError, match="no aggregate"):
        reducer_of_one("sum")
