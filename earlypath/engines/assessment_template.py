"""A whole assessment's JSON text with holes, kept per assessment key (issue 16).

A full assessment's text is the header, then each section's text. Each section's text is told
by its key (`earlypath.engines.fused`): a text kept whole, or a template filled per episode
(`earlypath.engines.templates`). So the key of all the sections together (one generated
function, `assessment_key_function`) and the reason the guideline version was chosen tell the
whole text but for the holes: the assessment date, the gestation, and each templated section
(the progesterone section's facts and plan; a pathway section's facts and rendered values).

An `AssessmentTemplate` is the constant text between those holes, joined once; filling it is
one pass over the holes. It is checked when it is made: filled for the episode it was made
from, it must give that episode's text from the section-by-section path, byte for byte, or it
is not kept. A hole that cannot write its value gives None: the section-by-section path decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from earlypath.engines.templates import _DATE_TEXTS, fact_text

__all__ = ["AssessmentTemplate", "Hole"]

# A hole: (the episode, its facts, its gestation) -> its JSON text, or None if it cannot write
# it (the section-by-section path then decides).
Hole = Callable[[Any, dict[str, Any], Any], "bytes | None"]


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
    """A whole assessment's text: ``head``, then each hole's text and the constant texts after
    (each constant text a shared piece, see `_shared`). A hole is a `Hole`, or a fact's name
    (the fact's JSON text, as `Template.fill` writes it: a section template's holes are
    written into the whole one, so a section's text is not joined twice)."""

    __slots__ = ("head", "pairs")

    def __init__(self, pieces: Sequence[bytes | str | Hole]) -> None:
        """``pieces``: constant texts and holes in output order."""
        head: list[bytes] = []
        pairs: list[tuple[str | Hole, list[bytes]]] = []
        for piece in pieces:
            if isinstance(piece, bytes):
                if piece:
                    (pairs[-1][1] if pairs else head).append(_shared(piece))
            else:
                pairs.append((piece, []))
        self.head = tuple(head)
        self.pairs = tuple((hole, tuple(texts)) for hole, texts in pairs)

    def fill(self, episode: Any, facts: dict[str, Any], gestation: Any) -> bytes | None:
        """The assessment's text for this episode; None if a hole cannot write its value."""
        out = list(self.head)
        append = out.append
        extend = out.extend
        for hole, texts in self.pairs:
            if type(hole) is str:
                value = facts[hole]
                if value is None:  # the commonest fact holes first (Unknown, dates)
                    piece: bytes | None = b"null"
                elif type(value) is dt.date:
                    piece = _DATE_TEXTS.get(value) or fact_text(value)
                else:
                    piece = fact_text(value)
            else:
                piece = hole(episode, facts, gestation)  # type: ignore[operator]
            if piece is None:
                return None
            append(piece)
            extend(texts)
        return b"".join(out)
