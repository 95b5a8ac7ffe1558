"""Compile the rule IR and decision tables into ibis expressions (the batch engine).

The same `earlypath.rules` objects the reference engine evaluates one episode at a time are
translated here, node by node, into one ibis expression over a table whose columns are the fact
names (`earlypath.facts`). Unknown is SQL NULL, so Kleene ``And``/``Or``/``Not`` are SQL's own
``AND``/``OR``/``NOT``. The expression runs unchanged on DuckDB (embedded) or PySpark.

Nothing here states a clinical rule: a rule written here a second time would be a fork.

Decision tables follow `earlypath.rules.decision` exactly:

- the first branch whose guard is True is taken (a guard that is False or Unknown is passed);
  when none is, the decision is ``needs_information`` with no recommendations or missing names;
- within the branch, verdicts are tried in order: True gives the verdict's outcome and its
  recommendations; Unknown gives ``needs_information``, the verdict's recommendations and the
  ``missing`` names of its Unknown criteria (de-duplicated, in order); False passes on;
- when no verdict holds, ``needs_information`` with no recommendations or missing names.

Known differences from Python, none reachable from the current rules: division by zero and the
square root of a negative number raise in Python but give NULL (or NaN) in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir_t

from earlypath.guideline.versions import VERSIONS, GuidelineVersion
from earlypath.rules import ir
from earlypath.rules.decision import NEEDS_INFORMATION, Branch, DecisionTable, Verdict

__all__ = [
    "CompiledTable",
    "OutcomeSlots",
    "IR_TYPES",
    "compile_condition",
    "compile_expr",
    "compile_table",
    "compile_versioned",
    "outcome_slots",
    "type_of",
    "version_case",
]

# IR fact types -> ibis types (the column types the batch engines expect).
IR_TYPES: dict[str, str] = {
    "bool": "boolean",
    "int": "int64",
    "float": "float64",
    "date": "date",
    "str": "string",
}

Columns = Callable[[str], ir_t.Value]


def types_by_node(nodes_of: Mapping[str, tuple[type[ir.Expr], ...]]) -> dict[type[ir.Expr], str]:
    """The nodes whose type is the same whatever their children ({type: its nodes}), by node:
    a node's class looked up, not tried against each (nodes are never subclassed). A node
    listed under two types is a `ValueError`, never the last one silently."""
    types: dict[type[ir.Expr], str] = {}
    for name, nodes in nodes_of.items():
        for node in nodes:
            if types.setdefault(node, name) != name:
                raise ValueError(f"{node.__name__} is listed as {types[node]} and {name}")
    return types


_FIXED_TYPES = types_by_node(
    {
        "bool": (ir.Cmp, ir.And, ir.Or, ir.Not, ir.Match, ir.IsNull, ir.IsTrue),
        "float": (ir.Sqrt,),
        "int": (ir.Floor, ir.DaysBetween),
        "date": (ir.AddDays,),
    }
)


def type_of(e: ir.Expr, other: Callable[[ir.Expr], str | None] | None = None) -> str | None:
    """The IR type an expression yields, or None if it cannot be told (a bare ``Const(None)``).

    ``other`` types the nodes of another IR built on this one (`earlypath.records.ir`)."""
    if other is not None:
        return _type_of(e, lambda x: type_of(x, other), other)
    return _type_of(e, type_of, None)


def _type_of(  # noqa: C901
    e: ir.Expr,
    type_of: Callable[[ir.Expr], str | None],
    other: Callable[[ir.Expr], str | None] | None,
) -> str | None:
    if isinstance(e, ir.Fact):
        return e.type
    if isinstance(e, ir.Const):
        v = e.value
        if v is None:
            return None
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int):
            return "int"
        if isinstance(v, float):
            return "float"
        if isinstance(v, dt.date):
            return "date"
        return "str"
    fixed = _FIXED_TYPES.get(type(e))
    if fixed is not None:
        return fixed
    if isinstance(e, ir.Arith):
        if e.op == "/":
            return "float"
        types = {type_of(e.left), type_of(e.right)}
        return "float" if "float" in types else ("int" if "int" in types else None)
    if isinstance(e, ir.Coalesce):
        return next((t for t in map(type_of, e.items) if t is not None), None)
    if isinstance(e, ir.If):
        return type_of(e.then) or type_of(e.otherwise)
    if other is not None:
        return other(e)
    raise TypeError(f"the ibis engine has no rule for IR node {type(e).__name__}")


def compile_expr(
    e: ir.Expr,
    column: Columns | ir_t.Table,
    expected: str | None = None,
    shared: Mapping[ir.Expr, ir_t.Value] | None = None,
) -> ir_t.Value:
    """An ibis value expression computing ``e``; facts are read with ``column(name)``.

    ``expected`` is the IR type the context wants, used to type a ``Const(None)``. ``shared``
    gives values already computed (a column) for sub-expressions of ``e``, read instead of
    compiling them again.
    """
    col: Columns = column.__getitem__ if isinstance(column, ir_t.Table) else column
    return (_SharingCompiler(col, shared) if shared else _Compiler(col)).expr(e, expected)


def compile_condition(
    e: ir.Expr,
    column: Columns | ir_t.Table,
    shared: Mapping[ir.Expr, ir_t.Value] | None = None,
) -> ir_t.BooleanValue:
    """``e`` for a place where only True counts (a CASE WHEN's condition, a filter): True
    exactly where ``e`` is True; where ``e`` is False or Unknown it may give either.

    A condition is tested by selection (each test only on the rows the tests before left
    undecided), where a value (a CASE, a COALESCE, a NOT) is computed whole on every row it
    reaches: ``IsTrue(x)`` is ``x`` here, a ``Match`` its IN over the values that make it True,
    and a negation is pushed down to the tests (a comparison negated, a Match's False values;
    issue 16, stop 30). ``shared`` as in `compile_expr`."""
    col: Columns = column.__getitem__ if isinstance(column, ir_t.Table) else column
    compiler = _SharingCompiler(col, shared) if shared else _Compiler(col)
    return _condition(e, compiler, True)


_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _condition(e: ir.Expr, c: _Compiler, holds: bool) -> ir_t.BooleanValue:  # noqa: C901
    """True exactly where ``e`` is ``holds`` (True, or False when negated)."""
    if isinstance(c, _SharingCompiler) and e in c.shared:
        value = c.shared[e]
        return value if holds else value == ibis.literal(False)
    if isinstance(e, ir.Not):
        return _condition(e.item, c, not holds)
    if isinstance(e, ir.And | ir.Or):
        # De Morgan holds in three-valued logic: NOT (a AND b) is (NOT a) OR (NOT b).
        conjunction = isinstance(e, ir.And) == holds
        if not e.items:
            return ibis.literal(conjunction)
        parts = [_condition(item, c, holds) for item in e.items]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if conjunction else (out | part)
        return out
    if isinstance(e, ir.Match):
        words = e.true_values if holds else e.false_values
        if not words:
            return ibis.literal(False)
        return c.expr(e.item, "str").isin(list(words))
    if isinstance(e, ir.IsTrue) and holds:
        return _condition(e.item, c, True)
    if isinstance(e, ir.Cmp) and not holds:
        kind = c.type_of(e.left) or c.type_of(e.right)
        return _CMP[_NEGATED[e.op]](c.expr(e.left, kind), c.expr(e.right, kind))
    value = c.expr(e, "bool")
    return value if holds else c.expr(ir.Not(e), "bool")


class _Compiler:
    def __init__(self, column: Columns) -> None:
        self.column = column

    def type_of(self, e: ir.Expr) -> str | None:
        return type_of(e)

    def other(self, e: ir.Expr, expected: str | None) -> ir_t.Value:
        """A node of another IR built on this one (a subclass compiles it)."""
        raise TypeError(f"the ibis engine has no rule for IR node {type(e).__name__}")

    def expr(self, e: ir.Expr, expected: str | None = None) -> ir_t.Value:  # noqa: C901
        if isinstance(e, ir.Fact):
            return self.column(e.name)
        if isinstance(e, ir.Const):
            kind = self.type_of(e) or expected
            if kind is None:
                raise TypeError("Const(None) whose type the context does not tell")
            if e.value is None:
                return ibis.null(IR_TYPES[kind])
            return ibis.literal(e.value, type=IR_TYPES[kind])
        if isinstance(e, ir.Cmp):
            kind = self.type_of(e.left) or self.type_of(e.right)
            a, b = self.expr(e.left, kind), self.expr(e.right, kind)
            return _CMP[e.op](a, b)
        if isinstance(e, ir.And):
            return _fold(e.items, self, lambda a, b: a & b, True)
        if isinstance(e, ir.Or):
            return _fold(e.items, self, lambda a, b: a | b, False)
        if isinstance(e, ir.Not):
            # Kleene NOT written as "x = FALSE" (NULL stays NULL): ibis 12 renders ~x as
            # "NOT (x)" without outer brackets, so "(NOT x) IS NULL" came out as NOT (x IS NULL).
            if isinstance(e.item, ir.IsNull):
                # Never Unknown: IS NOT NULL, one test, where DuckDB does not fold
                # "(x IS NULL) = FALSE" into it (a check of the audit's filter; issue 16, stop 29).
                return self.expr(e.item.item).notnull()
            return self.expr(e.item, "bool") == ibis.literal(False)
        if isinstance(e, ir.Match):
            item = self.expr(e.item, "str")
            cases = []
            if e.true_values:
                cases.append((item.isin(list(e.true_values)), ibis.literal(True)))
            if e.false_values:
                cases.append((item.isin(list(e.false_values)), ibis.literal(False)))
            if not cases:
                return ibis.null("boolean")
            return ibis.cases(*cases, else_=ibis.null("boolean"))
        if isinstance(e, ir.IsNull):
            return self.expr(e.item).isnull()
        if isinstance(e, ir.IsTrue):
            return self.expr(e.item, "bool").fill_null(False)
        if isinstance(e, ir.Arith):
            kind = self.type_of(e.left) or self.type_of(e.right)
            a, b = self.expr(e.left, kind), self.expr(e.right, kind)
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            return a / b
        if isinstance(e, ir.Sqrt):
            return self.expr(e.item, "float").sqrt()
        if isinstance(e, ir.Floor):
            return self.expr(e.item, "float").floor().cast("int64")
        if isinstance(e, ir.DaysBetween):
            start, end = self.expr(e.start, "date"), self.expr(e.end, "date")
            return end.delta(start, unit="day").cast("int64")
        if isinstance(e, ir.AddDays):
            date, days = self.expr(e.date, "date"), self.expr(e.days, "int")
            return date + days.as_interval("D")
        if isinstance(e, ir.Coalesce):
            kind = self.type_of(e)
            return ibis.coalesce(*(self.expr(i, kind) for i in e.items))
        if isinstance(e, ir.If):
            kind = self.type_of(e) or expected
            cond = self.expr(e.cond, "bool")
            then, otherwise = self.expr(e.then, kind), self.expr(e.otherwise, kind)
            # CASE WHEN cond THEN a ELSE b: an Unknown condition takes the else branch, as in IR.
            return ibis.cases((cond, then), else_=otherwise)
        return self.other(e, expected)


class _SharingCompiler(_Compiler):
    """The compiler reading the sub-expressions it is given as values (`compile_expr`'s ``shared``)."""

    def __init__(self, column: Columns, shared: Mapping[ir.Expr, ir_t.Value]) -> None:
        super().__init__(column)
        self.shared = shared

    def expr(self, e: ir.Expr, expected: str | None = None) -> ir_t.Value:
        known = self.shared.get(e)
        return known if known is not None else super().expr(e, expected)


_CMP: dict[str, Callable[[ir_t.Value, ir_t.Value], ir_t.BooleanValue]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _fold(
    items: Sequence[ir.Expr],
    compiler: _Compiler,
    op: Callable[[ir_t.Value, ir_t.Value], ir_t.Value],
    empty: bool,
) -> ir_t.Value:
    if not items:
        return ibis.literal(empty)
    values = [compiler.expr(i, "bool") for i in items]
    out = values[0]
    for v in values[1:]:
        out = op(out, v)
    return out


# --- decision tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledTable:
    """The three per-episode outputs of a decision table, as ibis expressions."""

    decision: ir_t.StringValue
    recommendations: ir_t.ArrayValue
    missing: ir_t.ArrayValue


def _string_array(values: Iterable[str]) -> ir_t.ArrayValue:
    return ibis.literal(list(values), type="array<string>")


def _verdict_value(verdict: Verdict, value: Callable[[ir.Expr], ir_t.BooleanValue]) -> ir_t.Value:
    crit = [value(c.expr) for c in verdict.criteria]
    if verdict.mode == "all_true":
        return _combine(crit, lambda a, b: a & b, True)
    if verdict.mode == "any_true":
        return _combine(crit, lambda a, b: a | b, False)
    # any_false: True if any criterion is False (Kleene OR of the negations).
    return _combine([~c for c in crit], lambda a, b: a | b, False)


def _verdict_expr(verdict: Verdict) -> ir.Expr:
    """The verdict as one IR expression, True exactly where `_verdict_value` is."""
    crit = [c.expr for c in verdict.criteria]
    if verdict.mode == "all_true":
        return ir.And(tuple(crit))
    if verdict.mode == "any_true":
        return ir.Or(tuple(crit))
    return ir.Or(tuple(ir.Not(c) for c in crit))


def _combine(values: list[ir_t.Value], op: Callable, empty: bool) -> ir_t.Value:
    if not values:
        return ibis.literal(empty)
    out = values[0]
    for v in values[1:]:
        out = op(out, v)
    return out


def _missing_of(verdict: Verdict, value: Callable[[ir.Expr], ir_t.BooleanValue]) -> ir_t.ArrayValue:
    """The verdict's ``missing`` names whose criteria are Unknown, de-duplicated in order.

    Each (criterion, name) slot is kept when its criterion is Unknown and no earlier slot with
    the same name was kept, i.e. every earlier criterion naming it is known.
    """
    slots: list[ir_t.Value] = []
    earlier: dict[str, list[ir_t.BooleanValue]] = {}
    for criterion in verdict.criteria:
        unknown = value(criterion.expr).isnull()
        seen_here: set[str] = set()
        for name in criterion.missing:
            if name in seen_here:
                continue
            seen_here.add(name)
            cond = unknown
            for prior in earlier.get(name, []):
                cond = cond & ~prior
            slots.append(ibis.cases((cond, ibis.literal(name)), else_=ibis.null("string")))
            earlier.setdefault(name, []).append(unknown)
    if not slots:
        return _string_array(())
    return ibis.array(slots).filter(lambda s: s.notnull())


def compile_table(
    table: DecisionTable, value: Callable[[ir.Expr], ir_t.BooleanValue]
) -> CompiledTable:
    """Compile a decision table; ``value(expr)`` gives the ibis value of a criterion or guard."""
    none = (ibis.literal(NEEDS_INFORMATION), _string_array(()), _string_array(()))
    decision_cases: list[tuple[ir_t.Value, ir_t.Value]] = []
    recs_cases: list[tuple[ir_t.Value, ir_t.Value]] = []
    missing_cases: list[tuple[ir_t.Value, ir_t.Value]] = []
    for branch in table.branches:
        guard = value(branch.guard).fill_null(False)
        d_cases, r_cases, m_cases = [], [], []
        for verdict in branch.verdicts:
            v = _verdict_value(verdict, value)
            recs = _string_array(verdict.recommendations)
            d_cases += [(v.isnull(), none[0]), (v, ibis.literal(verdict.outcome))]
            r_cases += [(v.isnull(), recs), (v, recs)]
            m_cases += [(v.isnull(), _missing_of(verdict, value)), (v, none[2])]
        decision_cases.append((guard, _cases(d_cases, none[0])))
        recs_cases.append((guard, _cases(r_cases, none[1])))
        missing_cases.append((guard, _cases(m_cases, none[2])))
    return CompiledTable(
        _cases(decision_cases, none[0]),
        _cases(recs_cases, none[1]),
        _cases(missing_cases, none[2]),
    )


def _cases(cases: list[tuple[ir_t.Value, ir_t.Value]], default: ir_t.Value) -> ir_t.Value:
    return ibis.cases(*cases, else_=default) if cases else default


# --- versions -------------------------------------------------------------------------------


def version_case(
    assessed_on: ir_t.DateValue, versions: Sequence[GuidelineVersion] = VERSIONS
) -> ir_t.StringValue:
    """The version in force on each row's date (`version_in_force`, as a CASE); NULL before the first."""
    cases = [
        (assessed_on >= ibis.literal(v.in_force_from), ibis.literal(v.version))
        for v in reversed(versions)
    ]
    return ibis.cases(*cases, else_=ibis.null("string"))


def compile_versioned(
    tables: Mapping[str, DecisionTable],
    version: ir_t.StringValue,
    value: Callable[[ir.Expr], ir_t.BooleanValue],
) -> CompiledTable:
    """One table per version, chosen per row by ``version`` (a CASE); identical tables share code."""
    compiled: list[tuple[list[str], CompiledTable]] = []
    by_branches: dict[int, int] = {}
    keys: list[tuple] = []
    for name, table in tables.items():
        key = (table.branches,)
        for i, k in enumerate(keys):
            if k == key:
                compiled[by_branches[i]][0].append(name)
                break
        else:
            by_branches[len(keys)] = len(compiled)
            keys.append(key)
            compiled.append(([name], compile_table(table, value)))
    none = ibis.literal(NEEDS_INFORMATION)
    empty = _string_array(())

    def pick(part: str, default: ir_t.Value) -> ir_t.Value:
        cases = [(version.isin(names), getattr(c, part)) for names, c in compiled]
        return _cases(cases, default)

    return CompiledTable(
        pick("decision", none), pick("recommendations", empty), pick("missing", empty)
    )


# --- compiled once: the outcome as one small integer ----------------------------------------


@dataclass(frozen=True)
class _Slot:
    """One way a row can end: a verdict True or Unknown, or no verdict at all (``verdict`` None)."""

    verdict: Verdict | None
    unknown: bool


@dataclass(frozen=True)
class OutcomeSlots:
    """`compile_versioned` in two steps, so the guards and verdicts are evaluated once per row.

    `slot` is the whole decision cascade (version, branch, verdict) as one CASE yielding a small
    integer: which verdict decided the row, and whether it was True or Unknown (0: none did).
    Store it as a column; `outputs` then derives ``decision``, ``recommendations`` and
    ``missing`` from that column with plain lookups (only ``missing`` reads the criteria again,
    and only on the rows that need it), instead of repeating the cascade three times."""

    slots: tuple[_Slot, ...]  # slot i + 1; 0 is "no verdict held"
    groups: tuple[tuple[tuple[str, ...], DecisionTable], ...]  # versions sharing one table

    def slot(
        self,
        version: ir_t.StringValue,
        value: Callable[[ir.Expr], ir_t.BooleanValue],
        condition: Callable[[ir.Expr], ir_t.BooleanValue] | None = None,
    ) -> ir_t.IntegerValue:
        """The slot number of each row (an int8 CASE); ``value(expr)`` reads a criterion,
        ``condition(expr)`` tests it where only True counts (`compile_condition`; ``value``
        when not given): a guard, and whether a verdict is True."""
        index = {id(s.verdict): i + 1 for i, s in enumerate(self.slots) if not s.unknown}
        zero = ibis.literal(0, type="int8")
        by_version = []
        for names, table in self.groups:
            branch_cases = []
            for branch in table.branches:
                verdict_cases: list[tuple[ir_t.Value, ir_t.Value]] = []
                for verdict in branch.verdicts:
                    v = _verdict_value(verdict, value)
                    held = index[id(verdict)]
                    # True before Unknown (the two cannot both hold): the rows the verdict
                    # decides are not tested again for IS NULL, which evaluates it whole.
                    # (without ``condition``, the verdict's value itself: ``value`` reads
                    # criteria only, not the verdict's IR as one expression)
                    holds = v if condition is None else condition(_verdict_expr(verdict))
                    verdict_cases += [
                        (holds, ibis.literal(held, type="int8")),
                        (v.isnull(), ibis.literal(held + 1, type="int8")),
                    ]
                # A WHEN takes neither False nor Unknown: the guard needs no COALESCE.
                guard = (value if condition is None else condition)(branch.guard)
                branch_cases.append((guard, _cases(verdict_cases, zero)))
            by_version.append((version.isin(list(names)), _cases(branch_cases, zero)))
        return _cases(by_version, zero)

    def outputs(
        self, slot: ir_t.IntegerValue, value: Callable[[ir.Expr], ir_t.BooleanValue]
    ) -> CompiledTable:
        """``decision``, ``recommendations`` and ``missing`` read from a stored `slot` column."""
        # `outcome_slots` numbers a verdict's True and Unknown slots in pairs (odd, then even).
        assert all(s.unknown == (i % 2 == 0) for i, s in enumerate(self.slots, start=1))
        decisions, recs, missing = [], [], []
        for i, s in enumerate(self.slots, start=1):
            assert s.verdict is not None
            # A CASE compares a row with each WHEN in turn until one matches, so a lookup
            # leaves out what its ELSE gives anyway: ``decision`` the Unknown slots (all
            # needs_information), ``recommendations`` a verdict citing none; and since a
            # verdict's two slots cite the same, ``recommendations`` reads one key for both,
            # slot + slot % 2 (its Unknown slot's number). Stop 26's unread-report branches put
            # 4 more WHENs before the common rows in each lookup (issue 16, stop 28).
            if not s.unknown and s.verdict.outcome != NEEDS_INFORMATION:
                decisions.append((i, s.verdict.outcome))
            if not s.unknown and s.verdict.recommendations:
                recs.append((i + 1, _string_array(s.verdict.recommendations)))
            if s.unknown:
                missing.append((i, _missing_of(s.verdict, value)))
        empty = _string_array(())
        pair = slot + slot % 2  # a verdict's two slots, one key
        # Only an Unknown verdict names what is missing: the odd slots are answered first, so a
        # row a verdict decided is not compared with every Unknown slot (-16 M of the DuckDB
        # one-pass COPY's 2,000 M instructions in 200,000 rows; issue 16, round 9).
        return CompiledTable(
            _lookup(slot, decisions, ibis.literal(NEEDS_INFORMATION)),
            _lookup(pair, recs, empty),
            ibis.cases((slot % 2 == 1, empty), *((slot == i, m) for i, m in missing), else_=empty)
            if missing
            else empty,
        )


def _lookup(
    key: ir_t.IntegerValue, cases: list[tuple[int, ir_t.Value]], default: ir_t.Value
) -> ir_t.Value:
    """``CASE key WHEN n THEN value ... ELSE default END`` (the default alone when no case)."""
    return key.cases(*cases, else_=default) if cases else default


def _narrows_a_later(branches: Sequence[Branch], i: int) -> bool:
    """Whether branch ``i``'s guard is a conjunction one of whose items is a later branch's guard
    (``not on it and the report not read`` before ``not on it``): it takes a few of that
    branch's rows."""
    guard = branches[i].guard
    later = {b.guard for b in branches[i + 1 :]}
    return isinstance(guard, ir.And) and any(item in later for item in guard.items)


def _numbering_order(branches: Sequence[Branch]) -> list[Branch]:
    """The branches in the order their verdicts are numbered: as written, but a branch that
    narrows a later one last. A slot is a label (the cascade tests the branches as written);
    the lookups compare a row with their WHENs in slot order, so the wider branch's common rows
    meet fewer (stop 26's unread-report branches came first; issue 16, stop 28)."""
    narrow = [i for i in range(len(branches)) if _narrows_a_later(branches, i)]
    return [b for i, b in enumerate(branches) if i not in narrow] + [branches[i] for i in narrow]


def outcome_slots(tables: Mapping[str, DecisionTable]) -> OutcomeSlots:
    """The `OutcomeSlots` of one table per version (versions with identical tables share one)."""
    groups: list[tuple[list[str], DecisionTable]] = []
    for name, table in tables.items():
        same = next((g for g in groups if g[1].branches == table.branches), None)
        if same is None:
            groups.append(([name], table))
        else:
            same[0].append(name)
    slots: list[_Slot] = []
    seen: set[int] = set()
    for _, table in groups:
        for branch in _numbering_order(table.branches):
            for verdict in branch.verdicts:
                if id(verdict) not in seen:  # a verdict shared by two branches: one pair
                    seen.add(id(verdict))
                    slots += [_Slot(verdict, False), _Slot(verdict, True)]
    if len(slots) > 126:
        raise ValueError("more verdicts than an int8 slot can number")
    return OutcomeSlots(tuple(slots), tuple((tuple(names), table) for names, table in groups))
