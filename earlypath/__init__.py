"""earlypath: NICE NG126 early pregnancy decisions, explained.

The small public API: validate an episode, assess it, and read the guideline versions.

The names are loaded on first use (PEP 562), so that a command or module that needs none of
them (``earlypath audit``, ``earlypath --version``) does not start by importing the engine and
the pydantic model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'earlypath' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
