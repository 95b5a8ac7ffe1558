"""earlypath: NICE NG126 early pregnancy decisions, explained.

The small public API: validate an episode, assess it, and read the guideline versions.
"""

__version__ = "0.1.0"

from earlypath.engines.python import assess  # noqa: E402
from earlypath.errors import EarlypathError, InputError, Problem  # noqa: E402
from earlypath.model import Episode, episode_json_schema, parse_episode, parse_episode_json  # noqa: E402
from earlypath.policy import Policy  # noqa: E402

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
