"""Adherence: each episode's category (in the engine), and measures over groups with Wilson intervals.

An episode's ``adherence`` comes from the engine's ``decision`` and the care actually given
(``progesterone_prescribed``: true, false or Unknown), by `ADHERENCE` below, so it is computed
in the same compiled expression as the decision. Measures (see measures.json and `governance`)
are ratios of category counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from earlypath.intervals import wilson

if TYPE_CHECKING:
    import ibis.expr.types as ir_t

__all__ = ["ADHERENCE", "CATEGORIES", "Rate", "adherence_expr", "wilson"]

# (decision, prescribed) -> category; prescribed None = care not recorded.
ADHERENCE: dict[tuple[str, bool | None], str] = {
    ("offer", True): "offered",
    ("offer", False): "not_offered",
    ("do_not_offer", True): "given_outside_guideline",
    ("do_not_offer", False): "not_given_per_guideline",
    ("stop", True): "given_outside_guideline",
    ("stop", False): "not_given_per_guideline",
    ("continue", True): "continued",
    ("continue", False): "not_continued",
}
_NEEDS_INFORMATION = (
    "needs_information"  # `earlypath.rules.decision`'s word, which no care is judged against
)
UNDECIDABLE = "undecidable"  # decision needs_information, whatever the care
CARE_UNKNOWN = "care_unknown"  # decided, but the care given is not recorded
CATEGORIES: tuple[str, ...] = (
    *dict.fromkeys(ADHERENCE.values()),
    CARE_UNKNOWN,
    UNDECIDABLE,
)


def adherence_expr(decision: ir_t.StringValue, prescribed: ir_t.BooleanValue) -> ir_t.StringValue:
    """The adherence category of each row, as one CASE: by the care given first, then a lookup of
    the decision among `ADHERENCE`'s outcomes for that care.

    The same categories as testing needs_information, care unknown and then each (decision, care)
    pair in turn, in fewer comparisons: a row is compared with one care's outcomes only, by a
    ``CASE decision WHEN``, not with every pair (-10 M of the DuckDB COPY's 1,980 M instructions
    in 200,000 rows; issue 16, stop 29)."""
    import ibis

    assert _NEEDS_INFORMATION not in {outcome for outcome, _ in ADHERENCE}  # its ELSE: undecidable
    undecidable = ibis.literal(UNDECIDABLE)

    def lookup(given: bool) -> ir_t.StringValue:
        pairs = [(outcome, cat) for (outcome, care), cat in ADHERENCE.items() if care is given]
        return decision.cases(*pairs, else_=undecidable)

    return ibis.cases(
        (
            prescribed.isnull(),
            ibis.cases((decision == _NEEDS_INFORMATION, undecidable), else_=CARE_UNKNOWN),
        ),
        (prescribed, lookup(True)),
        else_=lookup(False),
    )


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.numerator, self.denominator)

    def as_dict(self) -> dict[str, Any]:
        low_high = self.interval
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": self.value,
            "ci95_low": low_high[0] if low_high else None,
            "ci95_high": low_high[1] if low_high else None,
        }


def rate_of(counts: dict[str, int], numerator: list[str], denominator: list[str]) -> Rate:
    return Rate(
        sum(counts.get(c, 0) for c in numerator), sum(counts.get(c, 0) for c in denominator)
    )
