"""Every outcome of every pathway table, in every version, has words for the text output."""

from __future__ import annotations

import pytest

from earlypath.guideline.pathway import PathwayPolicy, sections
from earlypath.guideline.versions import BY_VERSION
from earlypath.guideline.wording import COMMON, DECISION_WORDS, decision_words, value_words


@pytest.mark.parametrize("version", sorted(BY_VERSION))
@pytest.mark.parametrize("anti_d_rule", ["ng126-2012-2023", "rewrite-unverified"])
def test_every_table_outcome_has_words(version: str, anti_d_rule: str) -> None:
    for section in sections():
        for name, table in section.tables(version, PathwayPolicy(anti_d_rule)).items():
            words = DECISION_WORDS[section.name if name == "main" else name]
            for outcome in table.outcomes:
                assert outcome in words or outcome in COMMON, (section.name, name, outcome)


def test_words_fall_back_to_the_token_never_to_nothing() -> None:
    assert decision_words("referral", "emergency_care").startswith("Refer her to A&E")
    assert decision_words("referral", "needs_information") == COMMON["needs_information"]
    assert decision_words("unknown_table", "x") == "x"
    assert value_words("next_step", "epu_review_within_24h").endswith("within 24 hours")
    assert value_words("ratio_note", "free text") == "free text"
