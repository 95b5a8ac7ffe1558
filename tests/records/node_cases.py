"""The semantics of every records-IR node, as data, for every engine to run.

Each `Case` is a small `EpisodeSpec`, the resources it reads, the assessment day, and what the
reading must give: step values by name and, when given, the problems (ref, message) in order.
Row-layer nodes are written as ``row_case(node, resource JSON, expected)``: the node is one column
of a one-table spec whose step collects that column (so an engine runs it as it runs a
definition). The Python engine's test is tests/records/test_python_engine.py; the ibis compiler's
runs the very same list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from earlypath.records.ir import (
    Agg,
    AnyItem,
    AnyResourceItem,
    AtLeast,
    Check,
    Col,
    Concept,
    Ctx,
    Day,
    Days,
    EpisodeSpec,
    Field,
    FirstCode,
    FirstItem,
    InSet,
    Joined,
    Left,
    LocalId,
    Lookup,
    Message,
    NhsNumber,
    NormText,
    OneOf,
    Outer,
    RefId,
    Round2,
    RowProblem,
    RowSpec,
    SpanDay,
    TextInSet,
)
from earlypath.rules.ir import (
    AddDays,
    And,
    Arith,
    Cmp,
    Coalesce,
    Const,
    DaysBetween,
    Expr,
    If,
    IsNull,
    IsTrue,
    Match,
    Not,
    Or,
)

ASSESSED_ON = dt.date(2024, 3, 4)
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
BLEEDING = {"system": SNOMED, "code": "289530006"}
ABSENT = {"system": SNOMED, "code": "2667000"}
RECURRENT = {"system": SNOMED, "code": "102878001"}  # history of miscarriage, at least 2
HISTORY = {"system": SNOMED, "code": "161744009"}  # history of miscarriage, at least 1
PROGESTERONE = {"system": RXNORM, "code": "8727"}


@dataclass(frozen=True)
class Case:
    name: str
    spec: EpisodeSpec
    resources: tuple[Any, ...]
    expect: dict[str, Any]
    problems: tuple[tuple[str, str], ...] | None = None
    assessed_on: dt.date = ASSESSED_ON
    encounter: str | None = None
    patient: str | None = None


def _obs(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o", **fields}


def row_case(name: str, node: Expr, resource: Any, expected: Any) -> Case:
    """``node`` read from one resource (an Observation unless it says otherwise)."""
    kind = resource.get("resourceType", "Observation") if isinstance(resource, dict) else "X"
    spec = EpisodeSpec(
        rows=(RowSpec("t", kind, Const(True), None, (("v", node),)),),
        steps=(("v", Agg("collect", "t", Const(True), Col("v"))),),
    )
    return Case(name, spec, (resource,), {"v": [] if expected is None else [expected]})


V = Field("v", "any")

# is the contained item in scope named by a "#" reference of the resource's list "r"? (stop 38)
_ID = Field("id", "str")
_NAMED = AnyResourceItem("r", IsTrue(Cmp("==", LocalId(Field("ref", "str")), Outer(_ID))))
_NAMED_Y = AnyItem("c", And((Cmp("==", Field("k", "str"), Const("y")), _NAMED)))

ROW_CASES = [
    # Field: the JSON type read; another type, or a missing step, is None
    row_case("field str", Field("status", "str"), _obs(status="final"), "final"),
    row_case("field str of a number", Field("status", "str"), _obs(status=3), None),
    row_case("field num int", Field("a.b", "num"), _obs(a={"b": 3}), 3),
    row_case("field num float", Field("a.b", "num"), _obs(a={"b": 2.5}), 2.5),
    row_case("field num of a bool", Field("a.b", "num"), _obs(a={"b": True}), None),
    row_case("field num of a text", Field("a.b", "num"), _obs(a={"b": "3"}), None),
    # the first character tells a JSON number: a sign, each end of the digits
    row_case("field num negative", Field("a.b", "num"), _obs(a={"b": -4.5}), -4.5),
    row_case("field num zero", Field("a.b", "num"), _obs(a={"b": 0}), 0),
    row_case("field num nine", Field("a.b", "num"), _obs(a={"b": 9e-3}), 0.009),
    row_case("field num of a list", Field("a.b", "num"), _obs(a={"b": [1]}), None),
    row_case("field num of an object", Field("a.b", "num"), _obs(a={"b": {"c": 1}}), None),
    row_case("field num of a null", Field("a.b", "num"), _obs(a={"b": None}), None),
    # a string is its text between the quotes unless it holds an escape (the DuckDB loader)
    row_case("field str escaped", Field("status", "str"), _obs(status='a"b\\c/'), 'a"b\\c/'),
    row_case("field str not ascii", Field("status", "str"), _obs(status="fœtal é"), "fœtal é"),
    row_case("field str empty", Field("status", "str"), _obs(status=""), ""),
    row_case("field bool", Field("x", "bool"), _obs(x=False), False),
    row_case("field bool of a text", Field("x", "bool"), _obs(x="false"), None),
    row_case("field path through a list", Field("a.b", "str"), _obs(a=[{"b": "x"}]), None),
    row_case("field missing step", Field("a.b.c", "str"), _obs(a={}), None),
    row_case("field any present", Field("a", "any"), _obs(a=[]), True),
    row_case("field any null", Field("a", "any"), _obs(a=None), None),
    row_case("field any missing", Field("a", "any"), _obs(), None),
    # Concept: only a JSON object
    row_case("concept not an object", IsNull(Concept("code")), _obs(code="x"), True),
    row_case("concept a list", IsNull(Concept("code")), _obs(code=[{"text": "x"}]), True),
    row_case("concept an empty object", IsNull(Concept("code")), _obs(code={}), False),
    # InSet: a code of the set, or a word of the set in text or display; never None
    row_case(
        "inset by code", InSet(Concept("code"), "bleeding"), _obs(code={"coding": [BLEEDING]}), True
    ),
    row_case(
        "inset second coding",
        InSet(Concept("code"), "bleeding"),
        _obs(code={"coding": [{"system": "x", "code": "y"}, BLEEDING]}),
        True,
    ),
    row_case(
        "inset code without its system",
        InSet(Concept("code"), "bleeding"),
        _obs(code={"coding": [{"code": "289530006"}]}),
        False,
    ),
    row_case("inset absent", InSet(Concept("code"), "bleeding"), _obs(), False),
    row_case(
        "inset coding not a list",
        InSet(Concept("code"), "bleeding"),
        _obs(code={"coding": BLEEDING}),
        False,
    ),
    row_case(
        "inset word in text",
        InSet(Concept("m"), "progesterone"),
        _obs(m={"text": "Progesterone 200 mg pessary"}),
        True,
    ),
    row_case(
        "inset word in a display",
        InSet(Concept("m"), "progesterone"),
        _obs(m={"coding": [{"system": "x", "code": "1", "display": "UTROGESTAN caps"}]}),
        True,
    ),
    row_case(
        "inset word inside another word",
        InSet(Concept("m"), "progesterone"),
        _obs(m={"text": "medroxyprogesterone"}),
        False,
    ),
    row_case(
        "inset set without words ignores text",
        InSet(Concept("code"), "bleeding"),
        _obs(code={"text": "bleeding"}),
        False,
    ),
    # ``words=False``: the set's codes only, its words not read (stop 39: a test that reads any
    # name anyway); beside a worded InSet of the same concept in an Or, each keeps its own test
    row_case(
        "inset codes only: a word of the set is not read",
        InSet(Concept("m"), "progesterone", words=False),
        _obs(m={"text": "Utrogestan 200 mg", "coding": [{"display": "Progesterone"}]}),
        False,
    ),
    row_case(
        "inset codes only: a code of the set",
        InSet(Concept("m"), "progesterone", words=False),
        _obs(m={"coding": [PROGESTERONE]}),
        True,
    ),
    row_case(
        "inset codes only or a worded set: the other set's word",
        Or((InSet(Concept("m"), "methotrexate"), InSet(Concept("m"), "progesterone", words=False))),
        _obs(m={"text": "Methotrexate 25 mg/ml"}),
        True,
    ),
    row_case(
        "inset codes only or a worded set: its own word not read",
        Or((InSet(Concept("m"), "methotrexate"), InSet(Concept("m"), "progesterone", words=False))),
        _obs(m={"text": "Utrogestan 200 mg"}),
        False,
    ),
    row_case(
        "inset codes only in a list item",
        AnyItem("i", InSet(Concept("k"), "progesterone", words=False)),
        _obs(i=[{"k": {"text": "Cyclogest"}}, {"k": {"coding": [BLEEDING]}}]),
        False,
    ),
    # the batch engines look each coding up once (a join to a (concept, system, code, sets)
    # table): another name of the system, codings that are not objects, one code in two
    # concepts of the row, a coding listed twice
    row_case(
        "inset by the OID of the system",
        InSet(Concept("code"), "bleeding"),
        _obs(code={"coding": [{"system": "urn:oid:2.16.840.1.113883.6.96", "code": "289530006"}]}),
        True,
    ),
    row_case(
        "inset codings that are not objects",
        InSet(Concept("code"), "bleeding"),
        _obs(code={"coding": ["289530006", None, 7, BLEEDING]}),
        True,
    ),
    row_case(
        "inset: a code of one concept does not count for another",
        And((InSet(Concept("code"), "absent"), InSet(Concept("v"), "bleeding"))),
        _obs(code={"coding": [BLEEDING]}, v={"coding": [ABSENT]}),
        False,
    ),
    row_case(
        "inset: each concept its own sets",
        And((InSet(Concept("code"), "bleeding"), InSet(Concept("v"), "absent"))),
        _obs(code={"coding": [BLEEDING, BLEEDING]}, v={"coding": [BLEEDING, ABSENT]}),
        True,
    ),
    row_case(
        "inset: a code in one set, not the other tested",
        And((InSet(Concept("code"), "bleeding"), Not(InSet(Concept("code"), "hcg")))),
        _obs(code={"coding": [BLEEDING]}),
        True,
    ),
    # Or of InSets of one concept: compiled as one test of the sets' union (same values)
    row_case(
        "inset or: a code of the second set",
        Or(
            (
                InSet(Concept("code"), "hcg"),
                IsNull(Field("x", "any")),
                InSet(Concept("code"), "bleeding"),
            )
        ),
        _obs(code={"coding": [BLEEDING]}, x=1),
        True,
    ),
    row_case(
        "inset or: a word of one set",
        Or((InSet(Concept("m"), "bleeding"), InSet(Concept("m"), "progesterone"))),
        _obs(m={"text": "Utrogestan 200 mg"}),
        True,
    ),
    row_case(
        "inset or: neither set, the other item true",
        Or(
            (
                InSet(Concept("code"), "hcg"),
                IsNull(Field("x", "any")),
                InSet(Concept("code"), "bleeding"),
            )
        ),
        _obs(code={"coding": [{"system": SNOMED, "code": "1"}], "text": "bleeding"}),
        True,
    ),
    row_case(
        "inset or: neither",
        Or((InSet(Concept("code"), "hcg"), InSet(Concept("code"), "bleeding"))),
        _obs(code={"coding": [{"system": "x", "code": "289530006"}]}),
        False,
    ),
    # FirstCode
    row_case(
        "first code",
        FirstCode(Concept("s")),
        _obs(s={"coding": [{"code": "refuted"}, {"code": "x"}]}),
        "refuted",
    ),
    row_case("first code none", FirstCode(Concept("s")), _obs(s={"coding": []}), None),
    row_case(
        "first code not text", FirstCode(Concept("s")), _obs(s={"coding": [{"code": 1}]}), None
    ),
    # AtLeast: the first coding in the set, its count (1 when it has none), else None
    row_case(
        "at least 2",
        AtLeast(Concept("code"), "miscarriage_history"),
        _obs(code={"coding": [RECURRENT]}),
        2,
    ),
    row_case(
        "at least first in set",
        AtLeast(Concept("code"), "miscarriage_history"),
        _obs(code={"coding": [BLEEDING, HISTORY, RECURRENT]}),
        1,
    ),
    row_case(
        "at least none",
        AtLeast(Concept("code"), "miscarriage_history"),
        _obs(code={"coding": [BLEEDING]}),
        None,
    ),
    # Day
    row_case("day of a date", Day(Field("d", "str")), _obs(d="2024-03-04"), dt.date(2024, 3, 4)),
    row_case(
        "day of a dateTime",
        Day(Field("d", "str")),
        _obs(d="2024-03-04T23:30:00+05:00"),
        dt.date(2024, 3, 4),
    ),
    row_case("day of a year-month", Day(Field("d", "str")), _obs(d="2024-03"), None),
    row_case("day impossible", Day(Field("d", "str")), _obs(d="2024-02-30"), None),
    row_case("day week date", Day(Field("d", "str")), _obs(d="2024-W10-1"), None),
    row_case("day compact", Day(Field("d", "str")), _obs(d="20240304T00"), None),
    # SpanDay: the first and the last day a partial date can denote (a GP history entry dated
    # "2022" or "2022-06"; FHIR R4 date and dateTime allow both)
    *(
        row_case(
            f"span day of {text!r}, {'last' if last else 'first'}",
            SpanDay(Field("d", "str"), last=last),
            _obs(d=text),
            want,
        )
        for text, first_day, last_day in (
            ("2024-03-04", dt.date(2024, 3, 4), dt.date(2024, 3, 4)),
            ("2024-03-04T23:30:00+05:00", dt.date(2024, 3, 4), dt.date(2024, 3, 4)),
            ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
            ("2023-02", dt.date(2023, 2, 1), dt.date(2023, 2, 28)),
            ("1900-02", dt.date(1900, 2, 1), dt.date(1900, 2, 28)),
            ("2000-02", dt.date(2000, 2, 1), dt.date(2000, 2, 29)),
            ("2022-06", dt.date(2022, 6, 1), dt.date(2022, 6, 30)),
            ("2022-12", dt.date(2022, 12, 1), dt.date(2022, 12, 31)),
            ("2022-01", dt.date(2022, 1, 1), dt.date(2022, 1, 31)),
            ("2022", dt.date(2022, 1, 1), dt.date(2022, 12, 31)),
            ("0000", None, None),
            ("0000-06", None, None),
            ("2022-13", None, None),
            ("2022-00", None, None),
            ("2022-6", None, None),
            ("22", None, None),
            ("2022-06-31", None, None),
            ("\uff12\uff10\uff12\uff12", None, None),
            (" 2022", None, None),
            ("2022-06 ", None, None),
        )
        for last, want in ((False, first_day), (True, last_day))
    ),
    # NormText
    row_case("normtext", NormText(Field("u", "str")), _obs(u=" \tMM\n"), "mm"),
    row_case("normtext keeps inner space", NormText(Field("u", "str")), _obs(u=" m m "), "m m"),
    row_case("normtext empty", NormText(Field("u", "str")), _obs(u=""), ""),
    row_case(
        "normtext keeping case (an identifier)",
        NormText(Field("u", "str"), fold_case=False),
        _obs(u=" \tK12 ab\n"),
        "K12 ab",
    ),
    row_case(
        "normtext non-breaking space stays",
        NormText(Field("u", "str")),
        _obs(u="mm\u00a0"),
        "mm\u00a0",
    ),
    # OneOf, Lookup, Round2
    row_case("oneof", OneOf(Field("s", "str"), ("a", "b")), _obs(s="b"), True),
    row_case("oneof not", OneOf(Field("s", "str"), ("a", "b")), _obs(s="c"), False),
    row_case("oneof none", IsNull(OneOf(Field("s", "str"), ("a",))), _obs(), True),
    row_case("lookup", Lookup(Field("u", "str"), (("mm", 1.0), ("cm", 10.0))), _obs(u="cm"), 10.0),
    row_case("lookup missing", Lookup(Field("u", "str"), (("mm", 1.0),)), _obs(u="in"), None),
    row_case("round2 half even", Round2(Field("x", "num")), _obs(x=0.125), 0.12),
    row_case("round2 binary", Round2(Field("x", "num")), _obs(x=2.675), 2.67),
    row_case("round2 up", Round2(Field("x", "num")), _obs(x=1.006), 1.01),
    row_case(
        "round2 times ten", Round2(Arith("*", Field("x", "num"), Const(10.0))), _obs(x=0.0125), 0.12
    ),
    # RefId
    row_case("refid relative", RefId(Field("r", "str"), "Patient"), _obs(r="Patient/1"), "1"),
    row_case(
        "refid absolute",
        RefId(Field("r", "str"), "Patient"),
        _obs(r="https://h/fhir/Patient/p-1"),
        "p-1",
    ),
    row_case(
        "refid history", RefId(Field("r", "str"), "Patient"), _obs(r="Patient/1/_history/3"), "1"
    ),
    row_case("refid urn", RefId(Field("r", "str"), "Patient"), _obs(r="urn:uuid:abc"), "abc"),
    # a "/" after urn:uuid: is read by the pattern, as a relative reference's is (stop 50: DuckDB
    # gave "abc/_history/3" and "abc/x", the card's Python "abc" and nothing)
    row_case(
        "refid urn history",
        RefId(Field("r", "str"), "Patient"),
        _obs(r="urn:uuid:abc/_history/3"),
        "abc",
    ),
    row_case(
        "refid urn and more", RefId(Field("r", "str"), "Patient"), _obs(r="urn:uuid:a/x"), None
    ),
    row_case("refid other type", RefId(Field("r", "str"), "Patient"), _obs(r="Group/1"), None),
    row_case("refid bare id", RefId(Field("r", "str"), "Patient"), _obs(r="1"), None),
    row_case("refid no id", RefId(Field("r", "str"), "Patient"), _obs(r="Patient/"), None),
    row_case("refid id and more", RefId(Field("r", "str"), "Patient"), _obs(r="Patient/1/x"), None),
    row_case(
        "refid of a type in a path",
        RefId(Field("r", "str"), "Patient"),
        _obs(r="Patient/Group/Patient/2"),
        "2",
    ),
    row_case(
        "refid conditional",
        RefId(Field("r", "str"), "Patient"),
        _obs(r="Patient?identifier=x"),
        None,
    ),
    row_case(
        "refid suffix of a type",
        RefId(Field("r", "str"), "Medication"),
        _obs(r="MyMedication/1"),
        None,
    ),
    # AnyItem, FirstItem
    row_case(
        "anyitem",
        AnyItem("c", Cmp("==", Field("id", "str"), Const("b"))),
        _obs(c=[{"id": "a"}, 3, {"id": "b"}]),
        True,
    ),
    row_case("anyitem no list", AnyItem("c", Const(True)), _obs(c={"id": "b"}), False),
    # a value set tested inside list items: the lambda reads the row's listed codings
    row_case(
        "inset in a list item: the second item's second coding",
        AnyItem("i", InSet(Concept("k"), "progesterone")),
        _obs(i=[{"k": {"coding": [BLEEDING]}}, 4, {"k": {"coding": [RECURRENT, PROGESTERONE]}}]),
        True,
    ),
    row_case(
        "inset in a list item: a code of another set of the row is not listed",
        And(
            (
                AnyItem("i", InSet(Concept("k"), "progesterone")),
                InSet(Concept("code"), "bleeding"),
            )
        ),
        _obs(code={"coding": [PROGESTERONE, BLEEDING]}, i=[{"k": {"coding": [BLEEDING]}}]),
        False,
    ),
    row_case(
        "inset in a nested list item, and the item's own test",
        FirstItem(
            "c",
            AnyItem("g", InSet(Concept("k"), "progesterone")),
            Field("id", "str"),
        ),
        _obs(
            c=[
                {"id": "a", "g": [{"k": {"coding": [BLEEDING]}}]},
                {"id": "b", "g": [{"k": {"coding": [{"code": "8727"}]}}, {"k": None}]},
                {"id": "c", "g": [{"k": {"text": "x", "coding": [PROGESTERONE]}}]},
            ]
        ),
        "c",
    ),
    # the item itself a concept (`Concept("")`: a reasonCode's concepts, stop 37): a coding, or
    # a word of a set with words, of any item; an item that is no object, or has no coding, none
    row_case(
        "inset of the item itself",
        AnyItem("r", InSet(Concept(""), "progesterone")),
        _obs(r=["8727", None, {"text": "x"}, {"coding": [BLEEDING]}, {"coding": [PROGESTERONE]}]),
        True,
    ),
    row_case(
        "inset of the item itself by its word",
        AnyItem("r", InSet(Concept(""), "progesterone")),
        _obs(r=[{"coding": [BLEEDING]}, {"text": "Cyclogest 400"}]),
        True,
    ),
    row_case(
        "inset of the item itself none",
        AnyItem("r", InSet(Concept(""), "bleeding")),
        _obs(r=[{"text": "bleeding"}, {"coding": [PROGESTERONE, {"code": BLEEDING["code"]}]}, 7]),
        False,
    ),
    # beside another reading of the item (its text), and of the resource's own concept
    row_case(
        "inset of the item itself and its text",
        And(
            (
                AnyItem("r", And((InSet(Concept(""), "bleeding"), IsNull(Field("text", "str"))))),
                InSet(Concept("code"), "progesterone"),
            )
        ),
        _obs(
            code={"coding": [PROGESTERONE]},
            r=[{"text": "t", "coding": [BLEEDING]}, {"coding": [BLEEDING]}],
        ),
        True,
    ),
    row_case(
        "firstitem",
        FirstItem("c", Cmp("==", Field("k", "str"), Const("y")), Field("v", "num")),
        _obs(c=[{"k": "x", "v": 1}, {"k": "y", "v": 2}, {"k": "y", "v": 3}]),
        2,
    ),
    row_case(
        "firstitem none", FirstItem("c", Const(False), Field("v", "num")), _obs(c=[{"v": 1}]), None
    ),
    # TextInSet, LocalId, Left, Outer
    row_case(
        "textinset", TextInSet(Field("d", "str"), "progesterone"), _obs(d="Cyclogest 400"), True
    ),
    row_case("textinset no word", TextInSet(Field("d", "str"), "progesterone"), _obs(d="x"), False),
    row_case("textinset none", TextInSet(Field("d", "str"), "progesterone"), _obs(), False),
    row_case(
        "textinset set without words",
        TextInSet(Field("d", "str"), "bleeding"),
        _obs(d="bleeding"),
        False,
    ),
    row_case("localid", LocalId(Field("r", "str")), _obs(r="#med1"), "med1"),
    row_case("localid bare hash", LocalId(Field("r", "str")), _obs(r="#"), None),
    row_case("localid not local", LocalId(Field("r", "str")), _obs(r="Medication/1"), None),
    # NhsNumber: ten digits with a right modulus 11 check digit, spaces and hyphens removed
    row_case(
        "nhs number spaces", NhsNumber(Field("t", "str")), _obs(t="999 000 0018"), "9990000018"
    ),
    row_case(
        "nhs number hyphens", NhsNumber(Field("t", "str")), _obs(t="900-000-0009"), "9000000009"
    ),
    row_case("nhs number check fails", NhsNumber(Field("t", "str")), _obs(t="9990000019"), None),
    row_case("nhs number check ten", NhsNumber(Field("t", "str")), _obs(t="9990000010"), None),
    row_case("nhs number nine digits", NhsNumber(Field("t", "str")), _obs(t="999 000 001"), None),
    row_case("nhs number letter", NhsNumber(Field("t", "str")), _obs(t="999 000 001X"), None),
    row_case("nhs number tab", NhsNumber(Field("t", "str")), _obs(t="999\t000\t0018"), None),
    row_case("nhs number none", NhsNumber(Field("t", "str")), _obs(), None),
    row_case("left", Left(Field("t", "str"), 3), _obs(t="abcdef"), "abc"),
    row_case("left short", Left(Field("t", "str"), 3), _obs(t="ab"), "ab"),
    row_case(
        "outer inside firstitem",
        FirstItem(
            "contained",
            Cmp("==", Field("id", "str"), Outer(LocalId(Field("ref", "str")))),
            Field("x", "num"),
        ),
        _obs(ref="#b", contained=[{"id": "a", "x": 1}, {"id": "b", "x": 2}]),
        2,
    ),
    # AnyResourceItem: each item of one list compared with each item of another list of the
    # resource (stop 38): the items named "y" whose id some "#" reference names
    row_case(
        "anyresourceitem: a later item named by a later reference",
        _NAMED_Y,
        _obs(
            c=[{"id": "a", "k": "y"}, {"id": "b", "k": "x"}, {"id": "d", "k": "y"}],
            r=[{"ref": "#b"}, 7, {"ref": "#d"}],
        ),
        True,
    ),
    row_case(
        "anyresourceitem: only another item named",
        _NAMED_Y,
        _obs(c=[{"id": "a", "k": "y"}, {"id": "b", "k": "x"}], r=[{"ref": "#b"}, {"ref": "a"}]),
        False,
    ),
    row_case(
        "anyresourceitem: no list of the resource, a list of the item",
        _NAMED_Y,
        _obs(c=[{"id": "a", "k": "y", "r": [{"ref": "#a"}]}]),
        False,
    ),
    row_case(
        "anyresourceitem: unknown in the test is not true",
        AnyItem("c", AnyResourceItem("r", Cmp("==", Field("ref", "str"), Outer(_ID)))),
        _obs(c=[{"k": "y"}, {"id": 3}], r=[{"ref": "a"}, {}]),
        False,
    ),
    row_case(
        "anyresourceitem inside firstitem",
        FirstItem("c", _NAMED, Field("k", "str")),
        _obs(c=[{"id": "a", "k": "y"}, {"id": "b", "k": "x"}], r=[{"ref": "#b"}]),
        "x",
    ),
    # the rule-IR nodes over JSON: Kleene logic, Unknown propagates
    row_case("and unknown", IsNull(And((Const(True), Field("x", "bool")))), _obs(), True),
    row_case("and false wins", And((Field("x", "bool"), Const(False))), _obs(), False),
    row_case("or true wins", Or((Field("x", "bool"), Const(True))), _obs(), True),
    row_case("not unknown", IsNull(Not(Field("x", "bool"))), _obs(), True),
    row_case("istrue", IsTrue(Field("x", "bool")), _obs(), False),
    row_case("match", Match(Field("s", "str"), ("a",), ("b",)), _obs(s="b"), False),
    row_case("cmp unknown", IsNull(Cmp(">", Field("x", "num"), Const(0))), _obs(), True),
    row_case("coalesce", Coalesce((Field("a", "str"), Field("b", "str"))), _obs(b="y"), "y"),
    row_case("if unknown takes else", If(Field("x", "bool"), Const(1), Const(2)), _obs(), 2),
    row_case(
        "days between",
        DaysBetween(Day(Field("a", "str")), Day(Field("b", "str"))),
        _obs(a="2024-03-01", b="2024-03-04"),
        3,
    ),
    row_case(
        "add days",
        AddDays(Day(Field("a", "str")), Const(-1)),
        _obs(a="2024-03-01"),
        dt.date(2024, 2, 29),
    ),
]


# --- the row layer's frame: checks, refs, positions, patients, joins ---------------------------

_PATIENT = RefId(Field("subject.reference", "str"), "Patient")
_FLAG = Field("flag", "bool")

FRAME_CASES = [
    Case(
        "check reports and drops the resource; other types, non-objects skipped",
        EpisodeSpec(
            rows=(
                RowSpec(
                    "t",
                    "Observation",
                    Const(True),
                    _PATIENT,
                    (("flag", _FLAG),),
                    (
                        Check(Not(IsNull(_FLAG)), Message.of("has no flag")),
                        Check(_FLAG, Message.of("flag is ", _FLAG, "; x is ", Field("x", "num"))),
                    ),
                ),
            ),
            steps=(
                ("refs", Agg("collect", "t", Const(True), Col("ref"))),
                ("ns", Agg("collect", "t", Const(True), Col("n"))),
                ("patients", Agg("collect", "t", Const(True), Col("patient"))),
            ),
        ),
        (
            "not an object",
            {
                "resourceType": "Observation",
                "id": "a",
                "flag": True,
                "subject": {"reference": "Patient/p"},
            },
            {"resourceType": "Observation", "id": 7, "flag": True},
            {"resourceType": "Observation", "id": "c", "flag": "yes"},
            {"resourceType": "Observation", "id": "d", "flag": False, "x": 12.0},
            {"resourceType": "Condition", "id": "e", "flag": True},
            {"resourceType": 3, "id": "f", "flag": True},
        ),
        {"refs": ["Observation/a", "Observation/(no id)"], "ns": [2, 3], "patients": ["p"]},
        (("Observation/c", "has no flag"), ("Observation/d", "flag is False; x is 12.0")),
    ),
    Case(
        "when False gives no row and no problem",
        EpisodeSpec(
            rows=(
                RowSpec(
                    "t", "Observation", _FLAG, None, (), (Check(Const(False), Message.of("x")),)
                ),
            ),
            steps=(("n", Agg("count_distinct", "t", Const(True), Col("ref"))),),
        ),
        (_obs(flag=False), _obs(id="p")),
        {"n": 0},
        (),
    ),
    Case(
        "patient scoping: an encounter's patient reads only her rows; unscoped tables serve all",
        EpisodeSpec(
            rows=(
                RowSpec("t", "Observation", Const(True), _PATIENT, (("x", Field("x", "num")),)),
                RowSpec("m", "Medication", Const(True), None, (("x", Field("x", "num")),)),
            ),
            steps=(
                ("mine", Agg("collect", "t", Const(True), Col("x"))),
                ("meds", Agg("collect", "m", Const(True), Col("x"))),
            ),
        ),
        (
            _obs(id="1", x=1, subject={"reference": "Patient/p"}),
            _obs(id="2", x=2, subject={"reference": "Patient/q"}),
            _obs(id="3", x=3),
            {"resourceType": "Medication", "id": "m", "x": 9},
        ),
        {"mine": [1], "meds": [9]},
        patient="p",
    ),
    Case(
        "joined: the last row of that id; no key, no row",
        EpisodeSpec(
            rows=(
                RowSpec(
                    "meds",
                    "Medication",
                    Const(True),
                    None,
                    (("id", Field("id", "str")), ("x", Field("x", "num"))),
                ),
                RowSpec(
                    "req",
                    "MedicationRequest",
                    Const(True),
                    None,
                    (("x", Joined("meds", RefId(Field("m.reference", "str"), "Medication"), "x")),),
                ),
            ),
            steps=(("xs", Agg("collect", "req", Const(True), Coalesce((Col("x"), Const(0))))),),
        ),
        (
            {"resourceType": "Medication", "id": "a", "x": 1},
            {"resourceType": "MedicationRequest", "id": "r1", "m": {"reference": "Medication/a"}},
            {"resourceType": "Medication", "id": "a", "x": 2},
            {"resourceType": "MedicationRequest", "id": "r2", "m": {"reference": "Medication/b"}},
            {"resourceType": "MedicationRequest", "id": "r3"},
        ),
        {"xs": [2, 0, 0]},
    ),
]


# --- the episode layer: context, aggregates, days, problems ------------------------------------

_X = Field("x", "num")
_DAY_OF = Day(Field("d", "str"))
_ROWS = (
    RowSpec("t", "Observation", Const(True), None, (("x", _X), ("day", _DAY_OF), ("b", _FLAG))),
)


def agg_case(name: str, agg: Expr, resources: tuple[Any, ...], expected: Any, **kw: Any) -> Case:
    return Case(
        name, EpisodeSpec(rows=_ROWS, steps=(("v", agg),)), resources, {"v": expected}, **kw
    )


_A = _obs(id="a", x=1, d="2024-03-01", flag=True)
_B = _obs(id="b", x=3, d="2024-03-02", flag=False)
_C = _obs(id="c", d="2024-03-02")
_D = _obs(id="d", x=3, d="2024-03-03")

EPISODE_CASES = [
    agg_case("any true", Agg("any", "t", Const(True), Col("b")), (_A, _B, _C), True),
    agg_case("any false", Agg("any", "t", Const(True), Col("b")), (_B, _C), False),
    agg_case("any no value", Agg("any", "t", Const(True), Col("b")), (_C,), None),
    agg_case("any no row", Agg("any", "t", Const(True), Col("b")), (), None),
    agg_case("all", Agg("all", "t", Const(True), Col("b")), (_A, _B), False),
    agg_case("all true", Agg("all", "t", Const(True), Col("b")), (_A, _C), True),
    agg_case("max", Agg("max", "t", Const(True), Col("x")), (_A, _B, _C), 3),
    agg_case("min", Agg("min", "t", Const(True), Col("x")), (_A, _B, _C), 1),
    agg_case("max none", Agg("max", "t", Const(True), Col("x")), (_C,), None),
    agg_case(
        "max of days", Agg("max", "t", Const(True), Col("day")), (_A, _B), dt.date(2024, 3, 2)
    ),
    agg_case(
        "count distinct", Agg("count_distinct", "t", Const(True), Col("x")), (_A, _B, _C, _D), 2
    ),
    agg_case("count distinct none", Agg("count_distinct", "t", Const(True), Col("x")), (_C,), 0),
    agg_case(
        "collect in input order", Agg("collect", "t", Const(True), Col("x")), (_D, _C, _A), [3, 1]
    ),
    agg_case(
        "where reads ctx",
        Agg("collect", "t", Cmp("<", Col("day"), Ctx("assessed_on")), Col("ref")),
        (_A, _B),
        ["Observation/a"],
        assessed_on=dt.date(2024, 3, 2),
    ),
    agg_case(
        "where unknown leaves the row out",
        Agg("collect", "t", Col("b"), Col("ref")),
        (_A, _B, _C),
        ["Observation/a"],
    ),
    agg_case(
        "latest by day then value",
        Agg("latest", "t", Not(IsNull(Col("x"))), Col("ref"), (Col("day"), Col("x"))),
        (_A, _D, _B),
        "Observation/d",
    ),
    agg_case(
        "latest: a None order sorts first",
        Agg("latest", "t", Const(True), Col("ref"), (Col("x"),)),
        (_C, _A),
        "Observation/a",
    ),
    agg_case(
        "latest no row", Agg("latest", "t", Const(False), Col("ref"), (Col("x"),)), (_A,), None
    ),
    agg_case("ctx encounter", Ctx("encounter"), (), "e1", encounter="e1"),
]


def _steps_case() -> Case:
    spec = EpisodeSpec(
        rows=_ROWS,
        steps=(
            ("top", Agg("max", "t", Const(True), Col("x"))),
            ("above", Agg("collect", "t", Cmp(">=", Col("x"), Ctx("top")), Col("ref"))),
            ("later", AddDays(Ctx("assessed_on"), Ctx("top"))),
        ),
    )
    return Case(
        "a step reads earlier steps",
        spec,
        (_A, _B, _D),
        {"top": 3, "above": ["Observation/b", "Observation/d"], "later": dt.date(2024, 3, 7)},
    )


def _one_pass_case() -> Case:
    """Consecutive aggregates over one table (an engine may run them in one pass), between
    steps that read them."""
    spec = EpisodeSpec(
        rows=_ROWS,
        steps=(
            ("n", Agg("count_distinct", "t", Const(True), Col("ref"))),
            ("seen", Agg("any", "t", Const(True), Col("b"))),
            ("xs", Agg("collect", "t", Not(IsNull(Col("x"))), Col("x"))),
            ("last", Agg("latest", "t", Const(True), Col("ref"), (Col("day"), Col("n")))),
            ("more", Agg("collect", "t", Cmp(">", Col("x"), Ctx("n")), Col("ref"))),
        ),
    )
    return Case(
        "consecutive aggregates over one table",
        spec,
        (_A, _B, _C, _D),
        {
            "n": 4,
            "seen": True,
            "xs": [1, 3, 3],
            "last": "Observation/d",
            "more": [],
        },
    )


def _days_case() -> Case:
    rows = (
        RowSpec(
            "t",
            "Observation",
            Const(True),
            None,
            (("x", _X), ("day", _DAY_OF), ("loc", Field("loc", "str")), ("b", _FLAG)),
        ),
    )
    spec = EpisodeSpec(
        rows=rows,
        steps=(
            (
                "days",
                Days(
                    "t",
                    Not(IsTrue(Cmp("==", Col("loc"), Const("skip")))),
                    Col("day"),
                    (
                        ("x", Agg("max", "", Const(True), Col("x"))),
                        ("loc", Agg("max", "", Const(True), Col("loc"))),
                        ("seen", Agg("any", "", Const(True), Col("b"))),
                        ("unseen", Agg("any", "", Const(True), Not(Col("b")))),
                    ),
                    carry=("loc",),
                    derived=(
                        ("clash", And((IsTrue(Col("seen")), IsTrue(Col("unseen"))))),
                        ("big", Cmp(">", Col("x"), Const(2))),
                    ),
                ),
            ),
        ),
        problems=(
            RowProblem(
                "days",
                Col("clash"),
                Message.of("clash on that day"),
                ref=Message.of("day of ", Col("day")),
            ),
            RowProblem("t", IsNull(Col("day")), Message.of("undated; x ", Col("x"))),
        ),
    )
    resources = (
        _obs(id="1", d="2024-03-02", x=1, loc="iup"),
        _obs(id="2", d="2024-03-01", x=5, flag=True),
        _obs(id="3", d="2024-03-03", flag=True),
        _obs(id="4", d="2024-03-03", flag=False),
        _obs(id="5", d="2024-03-04", loc="skip", x=9),
        _obs(id="6"),
    )
    d1, d2, d3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)
    days = [
        {
            "day": d1,
            "x": 5,
            "loc": None,
            "seen": True,
            "unseen": False,
            "clash": False,
            "big": True,
        },
        {
            "day": d2,
            "x": 1,
            "loc": "iup",
            "seen": None,
            "unseen": None,
            "clash": False,
            "big": False,
        },
        {
            "day": d3,
            "x": None,
            "loc": "iup",
            "seen": True,
            "unseen": True,
            "clash": True,
            "big": None,
        },
    ]
    problems = (("day of 2024-03-03", "clash on that day"), ("Observation/6", "undated; x (none)"))
    return Case(
        "days: grouped, derived, carried; problems", spec, resources, {"days": days}, problems
    )


CASES: list[Case] = [
    *ROW_CASES,
    *FRAME_CASES,
    *EPISODE_CASES,
    _steps_case(),
    _one_pass_case(),
    _days_case(),
]
