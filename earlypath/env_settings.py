"""A number read from an environment setting and checked, written once for the service's limits
(`earlypath.web.config`) and the record reading's settings (`earlypath.records.plan_cache`,
`earlypath.records.plan_choice`). Standard library only: it is read at start-up (issue 16)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from earlypath.errors import ConfigError

__all__ = ["number_setting"]

N = TypeVar("N", int, float)


def number_setting(
    name: str, default: N, parse: Callable[[str], N], what: str, low: N, high: N | None = None
) -> N:
    """The setting ``name`` as ``parse`` reads its text (stripped), ``default`` when unset or
    blank. A text ``parse`` refuses is a ConfigError "<name> must be <what>, not '<text>'" (its
    first 40 characters), as is a value below ``low`` (or NaN) where there is no ``high``; with
    ``high``, a value outside ``low``..``high`` is "<name> must be between <low> and <high>"."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, not {raw[:40]!r}") from None
    if high is not None:
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    elif not value >= low:  # (a NaN too)
        raise ConfigError(f"{name} must be {what}, not {raw[:40]!r}")
    return value
