"""The page's clinical words for the model's cross-field checks read each check's message from
`earlypath.model.checks` (one definition): an episode that breaks a check is shown the words,
whatever the message says, and web/words.py holds no copy of a message."""

from __future__ import annotations

import inspect

import pytest

from earlypath import InputError, parse_episode
from earlypath.model.checks import CROSS_FIELD_CHECKS
from earlypath.web import words

SCAN = {"date": "2024-03-01", "route": "transvaginal", "location": "intrauterine"}
BROKEN = [
    # (the episode's breaking fields, the problem's field, the clinical words)
    (
        {"scans": [{**SCAN, "fetal_pole": False, "fetal_heartbeat": True}]},
        "scans[0].fetal_pole",
        "Record a fetal pole when a heartbeat is seen",
    ),
    (
        {"scans": [{**SCAN, "fetal_pole": False, "crl_mm": 5.0}]},
        "scans[0].crl_mm",
        "A crown-rump length needs a fetal pole",
    ),
    (
        {"miscarriage_diagnosed": False, "miscarriage_type": "missed"},
        "miscarriage_type",
        "Give the type only when a miscarriage is diagnosed",
    ),
]


@pytest.mark.parametrize(("fields", "where", "clinical"), BROKEN, ids=[b[1] for b in BROKEN])
def test_a_broken_check_is_shown_in_clinical_words(fields: dict, where: str, clinical: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_episode({"assessed_on": "2024-03-04", "lmp": "2024-01-20", **fields})
    messages = [p.message for p in raised.value.problems if p.field == where]
    assert messages, where
    assert [words.clinical_message(m) for m in messages] == [clinical]


def test_words_hold_no_copy_of_a_check_message() -> None:
    source = inspect.getsource(words)
    copied = [c.message for c in CROSS_FIELD_CHECKS if c.message in source]
    assert copied == []


def test_a_check_that_is_not_one_is_named() -> None:
    with pytest.raises(LookupError, match="scan field no_such_field"):
        words.check_message("scan", "no_such_field")
