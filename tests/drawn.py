"""The examples Hypothesis would draw for a test, drawn up front, and judged in one batch: a
batched test reads them all in one reading (stops 50-51: the generative engines-agree and
batch-engine tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

Drawn = TypeVar("Drawn")


def drawn(strategy: st.SearchStrategy[Drawn], under: settings) -> list[Drawn]:
    """The examples Hypothesis draws of ``strategy`` under ``under`` (a test's examples)."""
    examples: list[Drawn] = []

    @under
    @given(example=strategy)
    def draw(example: Drawn) -> None:
        examples.append(example)

    draw()
    return examples


def in_one_batch(
    examples: list[list[Any]], judge: Callable[[list[Any]], list[Any]]
) -> list[list[Any]]:
    """``judge`` (one result per episode, in order) of every example's episodes at once, cut
    back into each example's."""
    judged = judge([ep for eps in examples for ep in eps])
    out, first = [], 0
    for eps in examples:
        out.append(judged[first : first + len(eps)])
        first += len(eps)
    assert first == len(judged)
    return out
