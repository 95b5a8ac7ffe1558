"""The episode's peanut-or-soya answer is kept per list of recorded allergies (issue 16): the
same answer as `mentions_peanut_or_soya`, however often and in whatever order it is asked."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from earlypath.model import Episode
from earlypath.model import episode as episode_module
from earlypath.model.episode import mentions_peanut_or_soya

WORDS = [
    "peanut",
    "Soya",
    "реаnut",
    "pea nut",
    "penicillin",
    "latex",
    "soy",
    "also yams",
    "ｐｅａｎｕｔ",
]
allergies = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=12)), max_size=3
)


@settings(max_examples=300, deadline=None)
@given(st.lists(allergies, min_size=1, max_size=4))
def test_the_kept_answer_is_the_reading_of_the_text(lists: list[list[str]]) -> None:
    for listed in lists + lists[::-1]:  # asked again: the kept answer
        episode = Episode.model_construct(allergies=listed)
        assert episode.peanut_or_soya_allergy is mentions_peanut_or_soya(listed), listed


def test_the_kept_answers_stay_bounded() -> None:
    kept = episode_module._PEANUT_OR_SOYA_BY_ALLERGIES
    for n in range(5000):
        assert Episode.model_construct(allergies=[f"drug {n}"]).peanut_or_soya_allergy is False
    assert len(kept) <= 4096
    assert Episode.model_construct(allergies=["peanut"]).peanut_or_soya_allergy is True
