"""A whole assessment's JSON text with holes, kept per assessment key (issue 16).

A full assessment's text is the header, then each section's text. Each section's text is told
by its key (`earlypath.engines.fused`): a text kept whole, or a template filled per episode
(`earlypath.engines.templates`). So the key of all the sections together (one generated
function, `assessment_key_function`) and the reason the guideline version was chosen tell the
whole text but for the holes: the assessment date, the gestation, and each templated section
(the progesterone section's facts and plan; a pathway section's facts and rendered values).

An `AssessmentTemplate` is the constant text between those holes, with a slot for each hole;
filling it is one pass over the holes and one join. It is checked when it is made: filled for
the episode it was made from, it must give that episode's text from the section-by-section
path, byte for byte, or it is not kept. A hole that cannot write its value gives None: the
section-by-section path decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, cast

from earlypath.engines.templates import _DATE_TEXTS, fact_text

__all__ = ["GESTATION", "AssessmentTemplate", "Hole", "Piece"]

# A hole: (the episode, its facts, its gestation) -> its JSON text, or None if it cannot write
# it (the section-by-section path then decides).
Hole = Callable[[Any, dict[str, Any], Any], "bytes | None"]


class _Gestation:
    """The marker of the gestation's place in a whole assessment (see `GESTATION`)."""

    __slots__ = ()


# Where the gestation's text goes: every full assessment has it once, and its caller has it at
# hand (looked up with the gestation), so it is written from `fill`'s argument, not by a hole.
GESTATION = _Gestation()


# What a whole assessment's template is made of, in output order: a constant text, a fact's
# name (a fact hole), a `Hole`, or `GESTATION`.
Piece = bytes | str | Hole | _Gestation


# Constant pieces by value: templates that share a section's kept text, the header or the
# policies hold one bytes object for it. Each whole template joined into one block was its own
# ~10 KB copy, so filling a thousand templates read megabytes from memory (a cache miss per
# line); shared pieces stay in the cache. Bounded: clearing loses sharing, never correctness.
_PIECES: dict[bytes, bytes] = {}
_PIECES_KEPT = 16384


def _shared(piece: bytes) -> bytes:
    known = _PIECES.get(piece)
    if known is None:
        if len(_PIECES) >= _PIECES_KEPT:
            _PIECES.clear()
        known = _PIECES[piece] = piece
    return known


class AssessmentTemplate:
    """A whole assessment's text: its constant texts (each a shared piece, see `_shared`) with
    an empty slot where each hole goes. A hole is a `Hole`, or a fact's name (the fact's JSON
    text, as `Template.fill` writes it: a section template's holes are written into the whole
    one, so a section's text is not joined twice).

    Filled by copying the list of pieces and writing each hole's text into its slot, the fact
    holes first, then the function holes: no list is built piece by piece (a loop that
    appended each hole then extended by the texts after it cost about a fifth more)."""

    __slots__ = ("calls", "facts", "gestation_at", "pieces")

    def __init__(self, pieces: Sequence[Piece]) -> None:
        """``pieces``: constant texts, holes and at most one `GESTATION`, in output order."""
        out: list[bytes] = []
        facts: list[tuple[int, str]] = []
        calls: list[tuple[int, Hole]] = []
        self.gestation_at: int | None = None
        for piece in pieces:
            if isinstance(piece, bytes):
                if piece:
                    out.append(_shared(piece))
            elif piece is GESTATION:
                if self.gestation_at is not None:
                    raise ValueError("a whole assessment has one gestation")
                self.gestation_at = len(out)
                out.append(b"")
            elif isinstance(piece, str):
                facts.append((len(out), piece))
                out.append(b"")
            else:
                calls.append((len(out), cast(Hole, piece)))
                out.append(b"")
        self.pieces = out  # never changed once made: `fill` writes into a copy
        self.facts = tuple(facts)
        self.calls = tuple(calls)

    def fill(
        self,
        episode: Any,
        facts: dict[str, Any],
        gestation: Any,
        gestation_text: bytes | None = None,
    ) -> bytes | None:
        """The assessment's text for this episode (``gestation_text``: the gestation's JSON
        text, where the template has its `GESTATION`); None if a hole cannot write its value."""
        out = self.pieces.copy()
        if self.gestation_at is not None:
            if gestation_text is None:
                return None
            out[self.gestation_at] = gestation_text
        for at, name in self.facts:
            value = facts[name]
            if value is None:  # the commonest fact holes first (Unknown, dates)
                piece: bytes | None = b"null"
            elif type(value) is dt.date:
                piece = _DATE_TEXTS.get(value) or fact_text(value)
            else:
                piece = fact_text(value)
            if piece is None:
                return None
            out[at] = piece
        for at, hole in self.calls:
            piece = hole(episode, facts, gestation)
            if piece is None:
                return None
            out[at] = piece
        return b"".join(out)
