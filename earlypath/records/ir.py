"""The records IR: how a FHIR record becomes an episode, written once, run by every engine.

Where `earlypath.rules.ir` says what the guideline decides from an episode, this says how the
facts of that episode are read from a FHIR record. It is data, not code: the Python engine
(`earlypath.records.python`) runs it over one patient's resources for the CDS service, keeping
the per-resource problems and the evidence the cards show; the ibis compiler
(`earlypath.records.ibis_compile`) runs it over a whole bulk export for the audit, on DuckDB and
on Spark. The definition itself is `earlypath.records.definition`.

Two layers, both built from the rule IR's nodes (``Const``, ``Cmp``, ``And``, ``Or``, ``Not``,
``If``, ``Coalesce``, ``IsNull``, ``IsTrue``, ``Match``, ``Arith``, ``AddDays``,
``DaysBetween``) and the nodes below. ``None`` is Unknown throughout, as in the rule IR.

1. **Rows: what each resource says.** A `RowSpec` turns each resource of one type whose
   ``when`` is True into one row of a named table (``clinical``, ``requests``, ...), with the
   columns its expressions give; expressions here read the resource's own JSON (`Field`,
   `Concept`, `InSet`, `Day`, ...). Its `Check`s are tried in order: the first whose condition is
   not True reports a problem about the resource (its ref, the check's message) and the
   resource gives no row. Every row also has ``ref`` ("Observation/7"), ``n`` (its position in
   the input) and ``patient`` (the id its spec's ``patient`` expression gives). A spec with
   `ItemRows` also reads each item of a list of the resource (an Observation's ``component``s)
   as a resource of its own, by the same expressions: its row has the resource's ``ref`` and
   ``n``.

2. **Episode: what the rows say, per encounter.** An `EpisodeSpec` is an ordered list of named
   steps evaluated for one encounter: its context (`Ctx`: ``assessed_on``, ``encounter``, and
   every earlier step by name) and aggregates (`Agg`, `Days`) over the rows of that encounter's
   patient. Inside an aggregate, `Col` reads the row. `RowProblem`s report, per encounter, rows
   that cannot be used there (an undated finding, one dated after the assessment).

Engines must give identical results for every node, problems included; a node one engine
cannot run is a defect to be stated where it is found, never a second definition.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from earlypath.rules.ir import Const, Expr, Scalar, node

__all__ = [
    "Agg",
    "AnyItem",
    "AnyResourceItem",
    "AtLeast",
    "Check",
    "Col",
    "Concept",
    "Ctx",
    "Day",
    "Days",
    "EpisodeSpec",
    "EveryItem",
    "Field",
    "FirstCode",
    "FirstItem",
    "InSet",
    "ItemCount",
    "ItemRows",
    "Joined",
    "Left",
    "LocalId",
    "Lookup",
    "Message",
    "NhsNumber",
    "NormText",
    "OneOf",
    "Outer",
    "RefId",
    "Round2",
    "RowProblem",
    "RowSpec",
    "SCOPES",
    "TextInSet",
]

JsonType = Literal["str", "num", "bool", "any"]


# --- layer 1: expressions over one resource's JSON -------------------------------------------


@node
class Field(Expr):
    """The JSON value at a dotted path of object keys ("valueQuantity.value").

    ``type`` is the JSON type read: "str", "num" (a number, never a boolean) or "bool"; any
    other JSON type there, or a missing step, is None. "any" is True when any JSON value other
    than null is there, else None (used to know that an element is present). Inside `AnyItem`
    and `FirstItem` the path starts at the list item; there ``path`` "" is the list item itself:
    an item of a list of plain values (a timing's ``when`` codes, stop 54), read as any leaf.
    """

    path: str
    type: JsonType


@node
class Concept(Expr):
    """The CodeableConcept at a dotted path (None unless a JSON object). Only `InSet`,
    `FirstCode` and `AtLeast` read it.

    ``path`` "" is the list item itself, inside `AnyItem` and `FirstItem` only, and read only by
    `InSet`: an item of a list of concepts (a ``reasonCode``), so that whether any of its
    concepts is in a set is one value of the resource, not a row per concept (stop 37)."""

    path: str


@node
class InSet(Expr):
    """Does the concept carry a code of the value set (``system|code`` of any coding), or, for a
    set with words, one of its words in its text or a coding's display? False when absent;
    never None. (`earlypath.fhir.codes.CodeSet.matches`.) ``words`` False: its codes only (a
    test that reads any name anyway needs no word of it, and each word is a regular expression
    in the compiled SQL, stop 39)."""

    concept: Expr
    value_set: str
    words: bool = True


@node
class TextInSet(Expr):
    """Does the text hold one of the value set's words (as `InSet` matches a concept's text)?
    False for a set without words and when the text is None; never None."""

    text: Expr
    value_set: str


@node
class FirstCode(Expr):
    """The code of the concept's first coding, or None."""

    concept: Expr


@node
class AtLeast(Expr):
    """The "at least n" count of the first coding of the concept that is in the value set (its
    ``at_least`` extension, 1 when none), or None when no coding is in the set."""

    concept: Expr
    value_set: str


@node
class Day(Expr):
    """A FHIR date, dateTime or instant (text) as a day: its first ten characters when they are
    a real calendar date YYYY-MM-DD; partial dates and anything else are None."""

    text: Expr


@node
class SpanDay(Expr):
    """The first day (``last``: the last day) a FHIR date or dateTime (text) can denote: a full
    date's own day (as `Day`); of a partial date "YYYY-MM" the first or last day of its month; of
    "YYYY" the 1st of January or the 31st of December; None for anything else. A partial date
    names a span of days, not one day."""

    text: Expr
    last: bool


@node
class NormText(Expr):
    """Text lower-cased and stripped of " \\t\\n\\r\\x0b\\x0c" at both ends; "" and None as
    they are. ``fold_case`` False: stripped only (an identifier's value, whose case counts)."""

    text: Expr
    fold_case: bool = True


@node
class NhsNumber(Expr):
    """An NHS number as its ten digits: the text with its spaces and hyphens removed ("943 476
    5919", "943-476-5919" as it is displayed and keyed), when that is ten ASCII digits whose last
    is the modulus 11 check digit of the nine before (NHS Data Dictionary); None for any other
    text (too short, a letter, a check digit that fails) and for None."""

    text: Expr


@node
class OneOf(Expr):
    """Is the value one of ``values``? None when the value is None."""

    item: Expr
    values: tuple[Scalar, ...]


@node
class Lookup(Expr):
    """The value paired with the item's value in ``pairs``, else None (a unit's factor)."""

    item: Expr
    pairs: tuple[tuple[Scalar, Scalar], ...]


@node
class Round2(Expr):
    """A number rounded to 0.01 as Python's ``round(x, 2)`` does (half to even on the exact
    binary value)."""

    item: Expr


@node
class RefId(Expr):
    """The id a reference (text) points to for resource type ``kind``: relative ("Patient/1"),
    absolute ("https://host/fhir/Patient/1"), either with "/_history/n", or "urn:uuid:1";
    None for any other reference (another type, a bare id, a conditional reference)."""

    reference: Expr
    kind: str


@node
class LocalId(Expr):
    """The id a reference (text) to a contained resource points to: "#med1" gives "med1"; None
    for any other reference and for "#"."""

    reference: Expr


@node
class Left(Expr):
    """The first ``length`` characters of a text (None as it is)."""

    text: Expr
    length: int


@node
class Outer(Expr):
    """Inside `AnyItem` and `FirstItem`: ``item`` read from the resource itself, not the list
    item (a contained resource matched against the reference that names it); inside
    `AnyResourceItem`, read from the item of the `AnyItem` or `FirstItem` around it."""

    item: Expr


@node
class AnyItem(Expr):
    """Does any item of the JSON list at ``path`` satisfy ``test`` (read relative to the item)?
    False when there is no list."""

    path: str
    test: Expr


@node
class ItemCount(Expr):
    """How many items of the JSON list at ``path`` satisfy ``test`` (read relative to the item,
    as `AnyItem`'s)? 0 when there is no list; never None (stop 54: how many dosages a
    prescription has, so that two dosages at two day parts are told from one written twice)."""

    path: str
    test: Expr


@node
class EveryItem(Expr):
    """Kleene AND of ``test`` (read relative to the item, as `AnyItem`'s) over the items of
    the JSON list at ``path``: False when any item's is False, else None when any item's is
    None (or there is no list, or it is empty), else True (stop 55: a dosage aspect over every
    dosage, its test written once where a False and a None test over the items wrote it twice)."""

    path: str
    test: Expr


@node
class AnyResourceItem(Expr):
    """Inside the ``test`` of an `AnyItem` or `FirstItem` of the resource (one level down, no
    deeper): does any item of the resource's own JSON list at ``path`` (not the item's) satisfy
    ``test``? In ``test``, `Field` and `Concept` read this list's item and `Outer` reads the
    enclosing item: so each item of one list is compared with each item of another list of the
    same resource (a contained Condition with each reference that may name it, stop 38). False
    when the resource has no list. Value sets (`InSet`, `AtLeast`) are not read inside it."""

    path: str
    test: Expr


@node
class FirstItem(Expr):
    """``value`` (read relative to the item) of the first item of the JSON list at ``path``
    that satisfies ``test``, or None."""

    path: str
    test: Expr
    value: Expr


@node
class Joined(Expr):
    """Column ``column`` of the row of table ``table`` whose ``id`` column equals ``key`` (of
    several, the last in input order), or None: how a MedicationRequest finds the Medication
    it refers to.

    With ``order`` (columns of that table, none of them ever None), of several rows of that id
    the one whose ``order`` values (compared in turn) are greatest, then the last in input
    order; with ``least`` as well, the smallest, then the first in input order: how the
    versions of a scan report sharing an id are ranked, whatever their order in the input.

    With ``patient``, only the rows of that table whose ``patient`` column equals it (None
    equal to None) are of that id: versions of one id compared per patient (stop 28), so one
    patient's resource never replaces nor holds back another's sharing its id. A reading of one
    woman's record (the CDS call: `records.python.read` without a patient) holds only her rows,
    whatever their subject writes (her merged-away ids, her identifier): there ``patient`` is
    not compared (stop 29). The audit's compiled reading compares the woman: the patient after
    the export's identifier ties and merges (`earlypath.records.women`, stop 30)."""

    table: str
    key: Expr
    column: str
    order: tuple[str, ...] = ()
    least: bool = False
    patient: Expr | None = None


@node
class Message:
    """A problem's text: literal parts and expressions, joined. An expression is shown as
    Python's ``str`` shows it (a float as its shortest repr: 12.5, 13.0); None as "(none)"."""

    parts: tuple[str | Expr, ...]

    @staticmethod
    def of(*parts: str | Expr) -> Message:
        return Message(tuple(parts))


@node
class Check:
    """A condition a resource's reading must meet; when it is not True the resource is reported
    with ``message`` and gives no row."""

    ok: Expr
    message: Message


@node
class ItemRows:
    """Besides the resource itself, each item of its JSON list at ``path`` (a top-level key) is
    read as a resource of its own: the resource with its keys ``own`` taken from the item
    instead (absent where the item has none) and without the list; every other element (id,
    status, subject, encounter, dates) is the resource's. An item that is not a JSON object
    has none of the ``own`` keys. So an Observation's ``component`` (a panel's crown-rump
    length, dated by the panel) is read by the one row spec of an Observation, its checks and
    problems written once; its row's ``ref`` and ``n`` are the resource's (a problem names the
    resource the card can show). Its rows come after the resource's own, in list order.

    With ``whole``, the item itself (not its keys) is put at that key instead, and only the
    items give rows (the resource's own is not read by this spec): a DiagnosticReport's
    ``conclusionCode`` items are concepts, each read as the ``code`` of an Observation of its
    own (the report's own code names the report, not a finding). Such a key may only be read
    as a `Concept` (its codings).

    With ``container``, each item that is a JSON object is read as a resource in full (every key
    its own: a DiagnosticReport's ``contained`` Observation, with its own id, status and date),
    and the resource, without the list, is put at that key (``_report.status``: the report's
    status beside the finding's); ``own`` is not used. As with ``whole``, only the items give
    rows; an item that is not a JSON object has only that key. Its row's ``ref`` and ``n`` are
    still the resource's (a problem names the report the card can show).

    With ``then``, each item read as a resource has items of its own, read by ``then`` as a
    resource's are: a contained panel's ``component``s (`ItemRows` of the panel, inside the
    report). Its rows follow the item's own row (none of its own with ``whole`` or
    ``container``), in list order, and keep everything else of the item (the report at
    ``container`` included)."""

    path: str
    own: tuple[str, ...]
    whole: str | None = None
    container: str | None = None
    then: ItemRows | None = None


@node
class RowSpec:
    """Resources of type ``resource`` whose ``when`` is True give a row of ``table``; with
    ``items``, so do the items it names (`ItemRows`), read by the same expressions.

    ``compiled_when_absent``: the compiled reading keeps this spec in its table's union even
    when its type has no line in the export (an empty part), where it leaves out the others
    (`ibis_compile.left_out`). For a type whose own table is compiled anyway (a prescription's
    ``requests``): its absence then asks for no plan of its own. What is read is the same."""

    table: str
    resource: str
    when: Expr
    patient: Expr | None
    columns: tuple[tuple[str, Expr], ...]
    checks: tuple[Check, ...] = ()
    items: ItemRows | None = None
    compiled_when_absent: bool = False

    @classmethod
    def every(
        cls,
        table: str,
        resource: str,
        patient: Expr | None,
        columns: tuple[tuple[str, Expr], ...],
    ) -> RowSpec:
        """The spec that gives a row of ``table`` for every resource of its type (``when``
        always True)."""
        return cls(table, resource, Const(True), patient, columns)


# --- layer 2: per encounter -------------------------------------------------------------------


@node
class Ctx(Expr):
    """The encounter's ``assessed_on`` (date) or ``encounter`` (its id), or an earlier step of
    the `EpisodeSpec` by name."""

    name: str


@node
class Col(Expr):
    """A column of the row being aggregated (``day``, ``ref``, ``n``, a spec's column)."""

    name: str


AggOp = Literal["any", "all", "max", "min", "count_distinct", "latest", "collect"]


@node
class Agg(Expr):
    """An aggregate over the rows of ``table`` of this encounter's patient where ``where`` is
    True (`Col` and `Ctx` may both be read).

    - any / all: Kleene OR / AND of ``value`` over the rows, ignoring None; None when no row
      gives a value (as SQL's bool_or / bool_and);
    - max / min: of ``value``, ignoring None; None when none;
    - count_distinct: how many distinct values other than None (0 when none);
    - latest: ``value`` of the row whose ``order`` tuple is greatest (the order must tell rows
      apart where their values differ), None when no row;
    - collect: the values other than None, in input order (``n``), as a list.

    ``evidence`` names the episode fact the Python engine lists the rows under (the rows that
    passed ``where``; for latest, the row chosen).
    """

    op: AggOp
    table: str
    where: Expr
    value: Expr
    order: tuple[Expr, ...] = ()
    evidence: str | None = None


@node
class Days(Expr):
    """Rows of ``table`` where ``where`` is True, grouped by ``day``: one record per day, in
    day order, with ``columns`` (each an `Agg` whose ``table`` and ``where`` are ignored: it
    runs over the day's rows). Each record also has ``day``. A column named in ``carry`` that
    is None on a day then takes its value from the latest earlier day where it was not None
    (after carrying). Last, ``derived`` columns are computed in order from the record (`Col`
    reads its columns, ``day`` and earlier derived ones; `Ctx` the context)."""

    table: str
    where: Expr
    day: Expr
    columns: tuple[tuple[str, Agg], ...]
    carry: tuple[str, ...] = ()
    derived: tuple[tuple[str, Expr], ...] = ()


@node
class RowProblem:
    """Each row of ``table`` where ``where`` is True is reported, for this encounter, with
    ``message``, about the row's ``ref`` or, when ``ref`` is given, about the text it gives.
    ``table`` may also name an earlier `Days` step: its day records are then the rows."""

    table: str
    where: Expr
    message: Message
    ref: Message | None = None


@node
class EpisodeSpec:
    """The reading: the row specs, then the steps (name, expression) in order, then the
    encounter's problems; ``own_record`` the tables never read from a merged record."""

    rows: tuple[RowSpec, ...]
    steps: tuple[tuple[str, Expr], ...]
    problems: tuple[RowProblem, ...] = field(default=())
    # Tables read from the patient's own record only when records merged into hers are read
    # as hers (`earlypath.records.merges`): her Patient (sex, age) is the surviving record's.
    own_record: tuple[str, ...] = field(default=())
    # Tables whose rows are all of (patient, id) pairs on more than one row (a `_Versions`
    # chosen table asked ``alone``): the same rows whether or not the audit keeps only the
    # repeated pairs' rows, so an item row may join them (`own_rows.safe_repeated`, stop 45).
    pairs_only: tuple[str, ...] = field(default=())


# The nodes whose inside is read in another scope (a list's item, a row aggregated), as the
# compilers walk them (`ibis_compile`, `own_rows`): never inlined into the enclosing scope.
SCOPES = (AnyItem, ItemCount, EveryItem, AnyResourceItem, FirstItem, Agg, Days)
