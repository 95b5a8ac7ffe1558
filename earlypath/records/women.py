"""Whose a row is where the compiled reading ranks versions: the woman, after merges and ties.

The versions of one id are ranked per patient (`earlypath.records.ir.Joined` with ``patient``:
stop 28), and the patient is the one the resource writes (``subject.reference``). In an export,
one woman may be written in three ways: her surviving Patient id, a Patient id merged into it
(``Patient.link``, `earlypath.records.merges`), or only her identifier (``subject.identifier``,
an NHS number: `earlypath.records.identifiers`, no literal reference, so no patient at all).
Ranked as written, a text-only amendment under her surviving id did not replace the intrauterine
finding under her merged-away id (the audit said "offer" on the superseded finding), and two
women's versions of one id naming each only by her NHS number were ranked together (one woman's
amendment replaced the other's finding): HAZ-20 C20.20.

So the compiled reading's row stage (`earlypath.records.ibis_compile`: a `Joined`'s look-up, the
kept count of repeated (patient, id) pairs) compares the woman instead: the Patient carrying the
identifier of a resource tied by it (``by_identifier``: ``ref``, ``n`` -> ``tied``, already the
surviving record), then the surviving record of a merged-away id (``merged``: ``merged_id`` ->
``survivor``). The episodes stage gives her rows to her encounters by the same `Women.of`
(`ibis_compile._Episodes._as_hers`): the rule is written once, here. The card's reading holds one woman's record
and ranks an id's versions together already (`earlypath.records.python`, ``one_record``).

Without a merge or a tie in the export (`Women.none`), nothing is joined: the plain plan.
Nothing here logs: ids are patient data.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir_t

__all__ = ["Women"]


@dataclass(frozen=True)
class Women:
    """The audit's merges (``merged``: ``merged_id``, ``survivor``) and identifier ties
    (``by_identifier``: ``ref``, ``n``, ``tied``) as tables of the engine, or None."""

    merged: ir_t.Table | None = None
    by_identifier: ir_t.Table | None = None

    @property
    def none(self) -> bool:
        """Is every row's patient the woman as written (no merge, no tie)?"""
        return self.merged is None and self.by_identifier is None

    def tables(self) -> dict[str, ir_t.Table]:
        """The tables given, by a name for a kept count's inputs (`kept_count.count_kept`)."""
        named = {"merged": self.merged, "by_identifier": self.by_identifier}
        return {name: t for name, t in named.items() if t is not None}

    def of(self, t: ir_t.Table, column: str, ref: str | None, n: str) -> ir_t.Table:
        """``t`` with ``column`` (a patient as the resource writes her; None when it names her
        by an identifier only) made the woman's Patient id. ``ref`` and ``n`` are the columns of
        ``t`` that name the resource of the row (its ``Type/id`` and line, as `compile_rows`
        names them); without ``ref``, no tie is looked up (the patient is hers already)."""
        tied = self.by_identifier
        if tied is not None and ref is not None:
            b = tied.select(_w_ref=tied["ref"], _w_n=tied["n"], _w_tied=tied["tied"]).view()
            j = t.left_join(b, (t[ref] == b["_w_ref"]) & (t[n] == b["_w_n"]))
            t = j.select(
                *(j[c].coalesce(j["_w_tied"]).name(c) if c == column else j[c] for c in t.columns)
            ).view()
        merged = self.merged
        if merged is not None:
            m = merged.select(_w_id=merged["merged_id"], _w_to=merged["survivor"]).view()
            j = t.left_join(m, t[column] == m["_w_id"])
            t = j.select(
                *(j["_w_to"].coalesce(j[c]).name(c) if c == column else j[c] for c in t.columns)
            ).view()
        return t
