"""Runtime helpers written into the generated reading's text, so its build compiles them too.

The reading calls a few Python helpers of `json_values` for every concept or date it reads
(`SETS_OF` some 7 times a CDS call, 27 with 20 more Observations). Called from the compiled
reading (`native`), each call still runs interpreted. Here a helper's own source (read from the
function itself, so there is still one definition) is written into the reading's text under the
name the text calls: the Cython build then runs it as C, and the text ``exec``ed without a build
defines the very same function. Annotations are dropped: Cython would check a ``dict`` argument's
type, an answer the Python helper does not give.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from earlypath.records.json_values import _NO_SETS, sets_of

# the name the generated text calls -> the helper whose source is written under that name
INLINED: dict[str, Callable[..., Any]] = {"SETS_OF": sets_of}
# the module globals those helpers read, bound beside the reading's other names
GLOBALS: dict[str, Any] = {"_NO_SETS": _NO_SETS}


def helper_source(name: str, fn: Callable[..., Any]) -> str:
    """``fn``'s source as a plain ``def name(...)``: no decorators, annotations or docstring."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise TypeError(f"{fn.__name__} is not a plain function")
    node.name = name
    node.decorator_list = []
    node.returns = None
    args = node.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None:
            arg.annotation = None
    if (
        node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    ):
        node.body = node.body[1:]
    return ast.unparse(node)


def helpers_for(text: str) -> list[str]:
    """The source of each inlined helper ``text`` calls, in a fixed order."""
    return [helper_source(name, fn) for name, fn in INLINED.items() if f"{name}(" in text]
