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
from contextlib import suppress
from operator import itemgetter
from typing import Any, Protocol, cast

from earlypath.engines.node_source import SourceNames, node_source
from earlypath.rules import ir
from earlypath.rules.decision import DecisionTable, Verdict
from earlypath.rules.ir import facts_in

__all__ = [
    "KeyFunction",
    "assessment_key_function",
    "exact_values_function",
    "expr_function",
    "section_key_function",
]

_PLAIN_FACT_TYPES = frozenset(["bool", "str", "int"])  # shown as they are by a kept trace


def _count_uses(roots: Iterable[ir.Expr]) -> dict[ir.Expr, int]:
    """How many times each node other than a fact or a constant is written under ``roots``
    (every occurrence, a node inside a repeated node counted each time)."""
    uses: dict[ir.Expr, int] = {}
    stack = list(roots)
    while stack:
        e = stack.pop()
        if isinstance(e, ir.Fact | ir.Const):
            continue
        with suppress(TypeError):  # an unhashable node is never shared
            uses[e] = uses.get(e, 0) + 1
        stack += ir.children(e)
    return uses


class _Source(SourceNames):
    """The source of one function: its lines, constants (passed as default arguments, read as
    locals) and the local each fact is read into.

    With ``uses`` (`_count_uses` of every expression the function holds), a node written more
    than once is computed once, as a statement before the body (after the facts are read), and
    read by name wherever it is written: a key function's tables read the same gestation, the
    same CRL test, many times. Such a node is then computed even where the closures would not
    reach it: nodes are pure, so the values are the same, and a function that raises is not
    used (the reference decides)."""

    def __init__(self, uses: dict[ir.Expr, int] | None = None) -> None:
        super().__init__({}, "t")
        self.lines: list[str] = []
        self.facts: dict[str, str] = {}  # fact name -> local
        self.uses = uses or {}
        self.shared: dict[ir.Expr, str] = {}  # node -> the local of its statement
        self.statements: list[str] = []  # the shared nodes' statements, in dependency order

    def _shared(self, e: ir.Expr) -> str | None:
        """The local holding ``e`` when it is written more than once (its statement added on
        first use), else None."""
        try:
            name = self.shared.get(e)
            if name is not None or self.uses.get(e, 0) < 2:
                return name
        except TypeError:
            return None
        code = self.expr(e)  # its own shared nodes' statements come first
        name = self.fresh()
        self.statements.append(f"    {name} = {code}")
        self.shared[e] = name
        return name

    def root(self, e: ir.Expr) -> str:
        """The source reading a whole expression (a guard, a criterion, a piece of advice)."""
        if isinstance(e, ir.Fact | ir.Const):
            return self.expr(e)
        return self._shared(e) or self.expr(e)

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
        name = self._shared(e)
        if name is not None:
            return name, name
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
        reads = [f"    {local} = f[{fact!r}]" for fact, local in self.facts.items()]
        if len(self.facts) > 1:
            # Every fact in one call (a key function reads some 35: one subscript each cost
            # about a tenth of the function); a missing fact raises KeyError all the same.
            reader = self.const(itemgetter(*self.facts))
            reads = [f"    {', '.join(self.facts.values())}, = {reader}(f)"]
        args = "".join(f", {k}={k}" for k in self.names)
        source = "\n".join([f"def {name}(f{args}):", *reads, *self.statements, *body])
        scope: dict[str, Any] = dict(self.names)
        exec(compile(source, f"<earlypath fused {name}>", "exec"), scope)  # noqa: S102 - our IR
        fn = scope[name]
        fn.source = source  # for tests and for reading
        fn.locals_of_facts = dict(self.facts)  # fact name -> its local in the source
        return fn


def expr_function(expr: ir.Expr) -> Callable[[dict[str, Any]], Any]:
    """``expr`` as one generated function of the facts (the same value as `compile_expr`'s
    closure); for tests, which hold the two to agree."""
    src = _Source()
    text = src.expr(expr)
    return src.function("expr", [f"    return {text}"])


def exact_values_function(
    exprs: Iterable[ir.Expr],
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """One generated function of the facts giving each expression's value exactly, as
    `earlypath.engines.sections` keys a render's reads (`_exact_key`): one flat tuple, for each
    expression in order its type then its value (a float's ``repr``), every node written more
    than once computed once."""
    exprs = tuple(exprs)
    src = _Source(_count_uses(exprs))
    body: list[str] = []
    items: list[str] = []
    for e in exprs:
        value = src.fresh()
        body.append(f"    {value} = {src.root(e)}")
        items.append(f"type({value}), repr({value}) if type({value}) is float else {value}")
    body.append(f"    return ({''.join(f'{i}, ' for i in items)})")
    return src.function("exact_values", body)


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
    """Lines that set ``key`` to the branch index then the criterion values of each verdict
    tried, in one flat tuple (see `_section_source`); each value is held in a local."""
    verdict = verdicts[index]
    values: list[str] = []
    lines: list[str] = []
    for criterion in verdict.criteria:
        text = src.root(criterion.expr)
        if text.isidentifier():
            # A local that already holds the value (a fact's, a constant's, a shared node's:
            # each assigned once, before the tables) or True/False/None: read as it is, not
            # copied into another local (a copy per criterion tried, some 50 a key).
            values.append(text)
        else:
            value = src.fresh()
            lines.append(f"{pad}{value} = {text}")
            values.append(value)
    tried = [*tried, *values]
    done = f"{pad}{key} = ({''.join(f'{t}, ' for t in tried)})"
    if index + 1 == len(verdicts):
        return [*lines, done]
    return [
        *lines,
        f"{pad}if {_false_test(verdict, '(' + ''.join(f'{v}, ' for v in values) + ')')}:",
        *_verdicts(src, verdicts, index + 1, key, tried, pad + "    "),
        f"{pad}else:",
        "    " + done,
    ]


class KeyFunction(Protocol):
    """A generated key function: the key of these facts; ``shown``: the facts a trace may show
    that the key holds; ``source``: its Python source; ``locals_of_facts``: the local each fact
    is read into there."""

    shown: frozenset[str]
    source: str
    locals_of_facts: dict[str, str]

    def __call__(self, facts: dict[str, Any], /) -> tuple[Any, ...]: ...


def _section_source(
    src: _Source,
    tables: tuple[DecisionTable, ...],
    prefix: str,
    held: frozenset[str] = frozenset(),
) -> tuple[list[str], list[str], dict[str, None]]:
    """(the lines that compute a section's key, the sources of its items, the plain facts it
    holds); its tables' keys are held in locals named after ``prefix``. A plain fact named in
    ``held`` (one the key already holds, see `assessment_key_function`) is not written again.

    The key is one flat tuple: per table the branch taken (None if none) and the criterion
    values of each verdict tried, then the advice, then the shown facts. Flat, it is hashed and
    compared as one block of memory (a nested key's compare against a kept key touched a
    tuple per verdict, each a cache miss: 2.3 against 0.75 us a lookup). It tells as much as
    the nested one: read from the left, the branch says which verdicts come, each verdict's
    criteria are a fixed number of values, and whether the next verdict was tried is the
    false test of the values just read (the test the function made); the advice and the shown
    facts are a fixed number of values. So two flat keys are equal only where the nested
    (table, verdict) keys are."""
    body: list[str] = []
    keys: list[str] = []
    plain: dict[str, None] = {}
    for number, table in enumerate(tables):
        key = f"{prefix}table{number}"
        keys.append(key)
        for index, branch in enumerate(table.branches):
            test = "if" if index == 0 else "elif"
            body.append(f"    {test} {src.root(branch.guard)} is True:")
            body += _verdicts(src, branch.verdicts, 0, key, [repr(index)], "        ")
        no_branch = f"{key} = (None,)"
        body += ["    else:", f"        {no_branch}"] if table.branches else [f"    {no_branch}"]
        for verdict in (v for b in table.branches for v in b.verdicts):
            for criterion in verdict.criteria:
                for fact in facts_in(criterion.expr):
                    if fact.type in _PLAIN_FACT_TYPES:
                        plain[fact.name] = None
    advice = [f"({src.root(a.expr)} is True)" for a in tables[0].advice] if tables else []
    shown = [src.fact(name) for name in plain if name not in held]
    return body, [*(f"*{k}" for k in keys), *advice, *shown], plain


def _table_roots(tables: tuple[DecisionTable, ...]) -> list[ir.Expr]:
    """Every expression a key function writes for these tables (guards, criteria, advice)."""
    roots: list[ir.Expr] = []
    for table in tables:
        for branch in table.branches:
            roots.append(branch.guard)
            roots += [c.expr for v in branch.verdicts for c in v.criteria]
    if tables:
        roots += [a.expr for a in tables[0].advice]
    return roots


def section_key_function(tables: Iterable[DecisionTable]) -> KeyFunction:
    """The generated key function of a section's tables (the main table first, as the section
    holds them): see the module's docstring."""
    tables = tuple(tables)
    src = _Source(_count_uses(_table_roots(tables)))
    body, items, plain = _section_source(src, tables, "")
    body.append(f"    return ({''.join(f'{i}, ' for i in items)})")
    fn: Any = src.function("section_key", body)
    fn.shown = frozenset(plain)
    return cast(KeyFunction, fn)


def assessment_key_function(
    sections: Iterable[Iterable[DecisionTable]], values: Iterable[ir.Expr] = ()
) -> Callable[[dict[str, Any]], Any]:
    """One generated function giving the keys of several sections at once (each section's
    tables as `section_key_function` takes them): what each section's own key function gives,
    joined into one flat tuple (each section's key has a length its values tell, see
    `_section_source`), every fact read once, every node written more than once computed
    once. The key of a whole assessment.

    A plain fact that several sections show is held once, where the first shows it: the
    sections' keys repeated it (the scan's location five times), and a shorter key is less
    to build, hash and compare (its lookup is about a twentieth of a kept assessment's time).
    Two keys are still equal only where the sections' keys are: each section's shown facts
    are a fixed list of names, so what is left out is at fixed places, and it is the value of
    a fact the key holds earlier. ``shown``: per section, each plain fact it shows and
    whether the key holds it there (False: held by an earlier section).

    With ``values`` (expressions the caller needs besides the key, such as the gestation,
    which the rules compute anyway), the function gives ``(key, *their values)``: a node
    the rules share with them is computed once for both."""
    every = [tuple(tables) for tables in sections]
    values = tuple(values)
    roots = [root for tables in every for root in _table_roots(tables)]
    src = _Source(_count_uses([*roots, *values]))
    body: list[str] = []
    items: list[str] = []
    held: set[str] = set()
    shown: list[tuple[tuple[str, bool], ...]] = []
    for number, tables in enumerate(every):
        lines, section_items, plain = _section_source(src, tables, f"s{number}", frozenset(held))
        body += lines
        items += section_items
        shown.append(tuple((name, name not in held) for name in plain))
        held.update(plain)
    key = f"({''.join(f'{i}, ' for i in items)})"
    if values:
        key = f"({key}, {''.join(f'{src.root(v)}, ' for v in values)})"
    body.append(f"    return {key}")
    fn: Any = src.function("assessment_key", body)
    fn.shown = tuple(shown)
    return cast(Callable[[dict[str, Any]], Any], fn)
