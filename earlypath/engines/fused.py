"""One generated Python function per pathway section: the key that tells the section's text.

The closures of `earlypath.engines.evaluate` stay the reference reading of every IR node. Here
a section's decision tables (guards, criteria, advice) become the source of a single function
of the facts, which evaluates them as `CompiledTable.judge` does (branches in order, a branch's
verdicts in order until one is not False, every criterion of a verdict tried) and returns what
was found: per table the branch taken and the criterion values of each verdict tried, whether
each piece of advice holds, and the plain facts (bool, text, int) a trace may show (named in
the function's ``shown``).

That key tells everything a section's JSON text is made of when the text is kept whole (see
`earlypath.engines.sections.PreparedSection.texts`): the verdicts, their criterion values, the
facts the traces show and the advice. So a section whose key was met before is one dict lookup.
A key never met, or whose text is not kept (a trace showing a date, a render reading a value),
goes through the reference path, which decides.

Nodes are written as Python expressions with the reference's Unknown rules (``None``), each
operand computed once (``:=``) and in the reference's order, so the function computes no node
the closures would not, except the advice (all tried here; the reference tries those for the
outcome) and the facts read up front: a function that raises is not used, the reference runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, cast

from earlypath.engines.node_source import SourceNames, node_source
from earlypath.rules import ir
from earlypath.rules.decision import DecisionTable, Verdict
from earlypath.rules.ir import facts_in

__all__ = ["KeyFunction", "assessment_key_function", "expr_function", "section_key_function"]

_PLAIN_FACT_TYPES = frozenset(["bool", "str", "int"])  # shown as they are by a kept trace


class _Source(SourceNames):
    """The source of one function: its lines, constants (passed as default arguments, read as
    locals) and the local each fact is read into."""

    def __init__(self) -> None:
        super().__init__({}, "t")
        self.lines: list[str] = []
        self.facts: dict[str, str] = {}  # fact name -> local

    def fact(self, name: str) -> str:
        local = self.facts.get(name)
        if local is None:
            local = self.facts[name] = f"x{len(self.facts)}"
        return local

    def sub(self, e: ir.Expr) -> tuple[str, str]:
        """(the source that computes ``e``, the source that reads it after): a fact's local and
        a constant as they are, any other node bound to a new temporary."""
        if isinstance(e, ir.Fact | ir.Const):
            text = self.expr(e)
            return text, text
        t = self.fresh()
        return f"({t} := {self.expr(e)})", t

    def expr(self, e: ir.Expr) -> str:
        if isinstance(e, ir.Fact):
            return self.fact(e.name)
        if isinstance(e, ir.Const):
            return self.const(e.value)
        text = node_source(e, self.sub, self.const)
        if text is None:
            raise TypeError(f"no Python source for IR node {type(e).__name__}")
        return text

    def function(self, name: str, body: list[str]) -> Callable[[dict[str, Any]], Any]:
        """Compile ``def name(f)`` reading the facts first, then ``body`` (indented lines)."""
        args = "".join(f", {k}={k}" for k in self.names)
        reads = [f"    {local} = f[{fact!r}]" for fact, local in self.facts.items()]
        source = "\n".join([f"def {name}(f{args}):", *reads, *body])
        scope: dict[str, Any] = dict(self.names)
        exec(compile(source, f"<earlypath fused {name}>", "exec"), scope)  # noqa: S102 - our IR
        fn = scope[name]
        fn.source = source  # for tests and for reading
        return fn


def expr_function(expr: ir.Expr) -> Callable[[dict[str, Any]], Any]:
    """``expr`` as one generated function of the facts (the same value as `compile_expr`'s
    closure); for tests, which hold the two to agree."""
    src = _Source()
    text = src.expr(expr)
    return src.function("expr", [f"    return {text}"])


def _false_test(verdict: Verdict, values: str) -> str:
    """The source of "this verdict's value is False" (`verdict_value`), on a tuple ``values``."""
    if verdict.mode == "all_true":
        return f"False in {values}"
    if verdict.mode == "any_true":
        return f"True not in {values} and None not in {values}"
    return f"False not in {values} and None not in {values}"  # any_false


def _verdicts(
    src: _Source, verdicts: tuple[Verdict, ...], index: int, key: str, tried: list[str], pad: str
) -> list[str]:
    """Lines that set ``key`` to (branch index, the criterion values of each verdict tried)."""
    verdict = verdicts[index]
    values = src.fresh()
    items = "".join(f"{src.expr(c.expr)}, " for c in verdict.criteria)
    lines = [f"{pad}{values} = ({items})"]
    tried = [*tried, values]
    done = f"{pad}{key} = ({', '.join(tried)},)"
    if index + 1 == len(verdicts):
        return [*lines, done]
    return [
        *lines,
        f"{pad}if {_false_test(verdict, values)}:",
        *_verdicts(src, verdicts, index + 1, key, tried, pad + "    "),
        f"{pad}else:",
        "    " + done,
    ]


class KeyFunction(Protocol):
    """A generated key function: the key of these facts; ``shown``: the facts a trace may show
    that the key holds; ``source``: its Python source."""

    shown: frozenset[str]
    source: str

    def __call__(self, facts: dict[str, Any], /) -> tuple[Any, ...]: ...


def _section_source(
    src: _Source, tables: tuple[DecisionTable, ...], prefix: str
) -> tuple[list[str], str, dict[str, None]]:
    """(the lines that compute a section's key, the source of the key, the plain facts it
    holds); its tables' keys are held in locals named after ``prefix``."""
    body: list[str] = []
    keys: list[str] = []
    plain: dict[str, None] = {}
    for number, table in enumerate(tables):
        key = f"{prefix}table{number}"
        keys.append(key)
        for index, branch in enumerate(table.branches):
            test = "if" if index == 0 else "elif"
            body.append(f"    {test} {src.expr(branch.guard)} is True:")
            body += _verdicts(src, branch.verdicts, 0, key, [repr(index)], "        ")
        body += ["    else:", f"        {key} = None"] if table.branches else [f"    {key} = None"]
        for verdict in (v for b in table.branches for v in b.verdicts):
            for criterion in verdict.criteria:
                for fact in facts_in(criterion.expr):
                    if fact.type in _PLAIN_FACT_TYPES:
                        plain[fact.name] = None
    advice = [f"({src.expr(a.expr)} is True)" for a in tables[0].advice] if tables else []
    shown = [src.fact(name) for name in plain]
    parts = [*keys, *advice, *shown]
    return body, f"({''.join(f'{p}, ' for p in parts)})", plain


def section_key_function(tables: Iterable[DecisionTable]) -> KeyFunction:
    """The generated key function of a section's tables (the main table first, as the section
    holds them): see the module's docstring."""
    src = _Source()
    body, key, plain = _section_source(src, tuple(tables), "")
    body.append(f"    return {key}")
    fn: Any = src.function("section_key", body)
    fn.shown = frozenset(plain)
    return cast(KeyFunction, fn)


def assessment_key_function(
    sections: Iterable[Iterable[DecisionTable]],
) -> Callable[[dict[str, Any]], tuple[tuple[Any, ...], ...]]:
    """One generated function giving the keys of several sections at once (each section's
    tables as `section_key_function` takes them): the tuple of what each section's own key
    function gives, every fact read once. The key of a whole assessment."""
    src = _Source()
    body: list[str] = []
    keys: list[str] = []
    for number, tables in enumerate(sections):
        lines, key, _ = _section_source(src, tuple(tables), f"s{number}")
        body += lines
        keys.append(key)
    body.append(f"    return ({''.join(f'{k}, ' for k in keys)})")
    return src.function("assessment_key", body)
