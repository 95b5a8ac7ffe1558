"""Writes assessments one per line to a byte stream (``earlypath assess --many``).

JSON lines go out as the encoder's UTF-8 bytes, with no round trip through text: the same bytes
as before, written faster. Text (``--format text``) is rendered as before.
"""

from __future__ import annotations

import sys
from typing import Any, BinaryIO, Literal

from earlypath.json_text import dumps_bytes
from earlypath.render_text import render_text


class AssessmentWriter:
    """``write(assessment)`` adds one line (JSON) or one block (text) to the stream."""

    def __init__(self, fmt: Literal["json", "text"], stream: BinaryIO | None = None) -> None:
        if stream is None:
            sys.stdout.flush()  # anything already written as text goes first
            stream = sys.stdout.buffer
        self._stream = stream
        self._json = fmt == "json"

    def write(self, assessment: dict[str, Any]) -> None:
        if self._json:
            self._stream.write(dumps_bytes(assessment) + b"\n")
        else:
            self._stream.write((render_text(assessment) + "\n").encode("utf-8"))

    def flush(self) -> None:
        self._stream.flush()
