"""CDS Hooks feedback: the specification's three examples are accepted and kept in the database."""

from __future__ import annotations

import pytest

from earlypath.web.config import Settings, default_feedback_url
from earlypath.web.feedback import FeedbackStore

FEEDBACK = "/cds-services/ng126-progesterone/feedback"

SPEC_ACCEPTED = {
    "feedback": [
        {
            "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}
SPEC_OVERRIDDEN = {
    "feedback": [
        {
            "card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
            "outcome": "overridden",
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}
SPEC_OVERRIDDEN_WITH_REASON = {
    "feedback": [
        {
            "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
            "outcome": "overridden",
            "overrideReason": {
                "reason": {
                    "code": "d7ecf885",
                    "system": "https://example.com/cds-hooks/override-reason-system",
                },
                "userComment": "A comment entered by the clinician.",
            },
            "outcomeTimestamp": "2020-12-11T00:00:00Z",
        }
    ]
}


def test_spec_feedback_examples_are_stored(make_client, tmp_path):
    db = tmp_path / "feedback.sqlite3"
    client = make_client(Settings(auth=False, feedback_db=f"sqlite:///{db}"))
    for body in (SPEC_ACCEPTED, SPEC_OVERRIDDEN, SPEC_OVERRIDDEN_WITH_REASON):
        response = client.post(FEEDBACK, json=body)
        assert response.status_code == 200, response.text
    rows = FeedbackStore(f"sqlite:///{db}").all()
    assert [r["card"] for r in rows] == [
        "4e0a3a1e-3283-4575-ab82-028d55fe2719",
        "f6b95768-b1c8-40dc-8385-bf3504b82ffb",
        "9368d37b-283f-44a0-93ea-547cebab93ed",
    ]
    assert rows[0]["accepted_suggestions"] == [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}]
    assert rows[2]["override_reason"]["code"] == "d7ecf885"
    assert rows[2]["user_comment"] == "A comment entered by the clinician."
    assert {r["service_id"] for r in rows} == {"ng126-progesterone"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"feedback": []},
        {"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2020-12-11T00:00:00Z"}]},
        {
            "feedback": [
                {"card": "x", "outcome": "accepted", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
            ]
        },
        {
            "feedback": [
                {"card": "x", "outcome": "maybe", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
            ]
        },
        {"feedback": [{"card": "x", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]},
    ],
)
def test_invalid_feedback_is_400(client, body):
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_feedback_for_unknown_service_is_404(client):
    assert client.post("/cds-services/nope/feedback", json=SPEC_OVERRIDDEN).status_code == 404


def test_feedback_db_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EARLYPATH_FEEDBACK_DB", f"sqlite:///{tmp_path / 'x.db'}")
    assert Settings.from_env().feedback_db == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.delenv("EARLYPATH_FEEDBACK_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert Settings.from_env().feedback_db == default_feedback_url()
    assert (
        default_feedback_url()
        == f"sqlite:///{tmp_path / 'data' / 'earlypath' / 'cds-feedback.sqlite3'}"
    )
    store = FeedbackStore(default_feedback_url())  # creates the folder
    assert (tmp_path / "data" / "earlypath").is_dir()
    store.close()


def _overridden(**changes):
    item = {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2020-12-11T00:00:00Z"}
    return {"feedback": [{**item, **changes}]}


def _accepted(**changes):
    item = {
        "card": "c-1",
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "s-1"}],
        "outcomeTimestamp": "2020-12-11T00:00:00Z",
    }
    return {"feedback": [{**item, **changes}]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_overridden(overrideReason={"userComment": {"text": "x"}}), "userComment"),
        (_overridden(overrideReason={"userComment": ["x"]}), "userComment"),
        (_overridden(overrideReason={"userComment": "x" * 2001}), "userComment"),
        (_overridden(overrideReason={"reason": {"system": "s"}}), "overrideReason.reason"),
        (_overridden(overrideReason={"reason": "declined"}), "overrideReason.reason"),
        (_overridden(overrideReason={"reason": {"code": "c", "display": 5}}), "reason.display"),
        (_overridden(overrideReason={"comment": "x"}), "overrideReason"),
        (_overridden(overrideReason="declined"), "overrideReason"),
        (_overridden(acceptedSuggestions=[{"id": "s"}]), "acceptedSuggestions"),
        (_accepted(overrideReason={"userComment": "x"}), "overrideReason"),
        (_accepted(acceptedSuggestions=["s-1"]), "acceptedSuggestions[0]"),
        (_accepted(acceptedSuggestions=[{"id": "s", "x": 1}]), "acceptedSuggestions[0]"),
        (_accepted(acceptedSuggestions=[{"id": "x" * 201}]), "acceptedSuggestions[0]"),
        (_accepted(acceptedSuggestions=[{"id": str(i)} for i in range(21)]), "acceptedSuggestions"),
        (_accepted(acceptedSuggestions=[]), "acceptedSuggestions"),
        (_overridden(card="x" * 201), "card"),
        (_overridden(card={"uuid": "x"}), "card"),
        (_overridden(outcomeTimestamp="2020-12-11"), "outcomeTimestamp"),
        (_overridden(outcomeTimestamp="2020-12-11T00:00:00"), "outcomeTimestamp"),
        (_overridden(outcomeTimestamp="2020-12-11T00:00:00Z" + " " * 100), "outcomeTimestamp"),
        (_overridden(outcomeTimestamp=20201211), "outcomeTimestamp"),
        ({"feedback": [_overridden()["feedback"][0]] * 101}, "feedback"),
        ({"feedback": {"card": "c"}}, "feedback"),
    ],
)
def test_feedback_breaking_cds_hooks_rules_or_limits_is_400_and_not_stored(
    make_client, tmp_path, body, field
):
    db = tmp_path / "fb.sqlite3"
    client = make_client(Settings(auth=False, feedback_db=f"sqlite:///{db}"))
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 400, response.text
    assert any(field in e["field"] for e in response.json()["errors"]), response.json()
    assert FeedbackStore(f"sqlite:///{db}").all() == []


def test_feedback_with_many_bad_items_gets_a_short_answer(client):
    body = {"feedback": [{"card": 1}] * 100}
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 400
    assert len(response.json()["errors"]) <= 20


def test_feedback_nested_deep_anywhere_is_400(client):
    deep = "[" * 1_500 + "]" * 1_500
    body = (
        '{"feedback": [{"card": "c", "outcome": "overridden", '
        '"outcomeTimestamp": "2020-12-11T00:00:00Z", '
        '"overrideReason": {"userComment": ' + deep + "}}]}"
    )
    response = client.post(FEEDBACK, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "nested deeper" in response.json()["errors"][0]["message"]


def test_valid_feedback_within_limits_is_stored(make_client, tmp_path):
    db = tmp_path / "fb.sqlite3"
    client = make_client(Settings(auth=False, feedback_db=f"sqlite:///{db}"))
    body = _overridden(
        overrideReason={
            "reason": {"code": "declined", "system": "https://s", "display": "Declined"},
            "userComment": "x" * 2000,
        },
        extension={"https://ehr.example.org/x": 1},  # extensions are allowed by CDS Hooks
    )
    assert client.post(FEEDBACK, json=body).status_code == 200
    body["feedback"] = body["feedback"] * 100
    assert client.post(FEEDBACK, json=body).status_code == 200
    assert len(FeedbackStore(f"sqlite:///{db}").all()) == 101
