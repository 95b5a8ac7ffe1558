"""The input contract: the facts of one episode of care, typed and validated."""

from earlypath.model.episode import (
    PEANUT_OR_SOYA_WORDS,
    Episode,
    HcgSample,
    Scan,
    episode_json_schema,
    parse_episode,
    parse_episode_json,
)

__all__ = [
    "PEANUT_OR_SOYA_WORDS",
    "Episode",
    "HcgSample",
    "Scan",
    "episode_json_schema",
    "parse_episode",
    "parse_episode_json",
]
