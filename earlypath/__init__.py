"""earlypath: NICE NG126 early pregnancy decisions, explained.

The small public API: validate an episode, assess it, and read the guideline versions.

The names are loaded on first use (PEP 562), so that a command or module that needs none of
them (``earlypath audit``, ``earlypath --version``) does not start by importing the engine and
the pydantic model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from earlypath._lazy import listed as _listed
from earlypath._lazy import load as _load

__version__ = "0.1.0"

if TYPE_CHECKING:
    from earlypath.engines.python import assess
    from earlypath.errors import EarlypathError, InputError, Problem
    from earlypath.model import Episode, episode_json_schema, parse_episode, parse_episode_json
    from earlypath.policy import Policy

# name -> the module that defines it
_PUBLIC = {
    "assess": "earlypath.engines.python",
    "EarlypathError": "earlypath.errors",
    "InputError": "earlypath.errors",
    "Problem": "earlypath.errors",
    "Episode": "earlypath.model",
    "episode_json_schema": "earlypath.model",
    "parse_episode": "earlypath.model",
    "parse_episode_json": "earlypath.model",
    "Policy": "earlypath.policy",
}

__all__ = [
    "EarlypathError",
    "Episode",
    "InputError",
    "Policy",
    "Problem",
    "__version__",
    "assess",
    "episode_json_schema",
    "parse_episode",
    "parse_episode_json",
]


def __getattr__(name: str) -> Any:
    return _load(globals(), _PUBLIC, name)  # kept in globals(): later lookups skip this


def __dir__() -> list[str]:
    return _listed(globals(), _PUBLIC)
