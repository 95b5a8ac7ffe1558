"""Form answers -> episodes (no rules), and the plain-language wording for women."""

from __future__ import annotations

import datetime as dt

import pytest

from earlypath import assess, parse_episode
from earlypath.model import episode_json_schema
from earlypath.web import forms, plain

TODAY = dt.date(2024, 3, 4)


def test_clinician_defaults_leave_clinical_facts_unknown():
    defaults = forms.clinician_defaults(TODAY)
    episode = forms.clinician_episode(defaults).episode
    parse_episode(episode)
    assert episode["assessed_on"] == "2024-03-04"
    # No clinical fact is prefilled: no LMP, no scan, nothing read as "no".
    assert episode["previous_miscarriages"] is None and episode["lmp"] is None
    assert episode["vaginal_bleeding"] is None and episode["haemodynamically_unstable"] is None
    assert episode["pain"] is None and episode["rhesus_d"] is None
    assert episode["heavy_bleeding"] is None and episode["previous_ectopic"] is None
    assert episode["ectopic_ruptured"] is None and episode["second_opinion_no_heartbeat"] is False
    assert episode["scans"] == [] and episode["hcg"] == []
    assert assess(episode)["progesterone"]["decision"] == "needs_information"


def test_clinician_form_conversion_passes_bad_values_to_the_contract():
    form = {
        **forms.clinician_defaults(TODAY),
        "previous_miscarriages": "two",
        "scans-0-location": "intrauterine",
        "scans-0-crl_mm": "9,5",
    }
    episode = forms.clinician_episode(form).episode
    assert episode["previous_miscarriages"] == "two"
    assert episode["scans"][0]["crl_mm"] == "9,5"


def test_a_preliminary_crl_is_sent_as_not_verified():
    """The form's "final result" question writes the contract's crl_verified (stop 45)."""
    form = {
        **forms.clinician_defaults(TODAY),
        "scans-0-date": "2024-03-01",
        "scans-0-location": "intrauterine",
        "scans-0-crl_mm": "9.5",
        "scans-0-crl_verified": "no",
    }
    (scan,) = forms.clinician_episode(form).episode["scans"]
    assert scan["crl_verified"] is False and scan["crl_mm"] == 9.5


def test_clinician_rows_scans_and_hcg_and_allergies():
    form = {
        **forms.clinician_defaults(TODAY),
        "allergies": "peanut, penicillin ,",
        "scans-0-date": "",
        "scans-0-route": "transvaginal",  # a default alone does not make a row
        "scans-1-date": "2024-03-01",
        "scans-1-location": "unknown",
        "scans-1-fetal_pole": "unknown",
        "hcg-0-taken_at": "2024-03-01T09:00",
        "hcg-0-iu_per_l": "800",
        "hcg-1-taken_at": "2024-03-03T09:00",
        "hcg-1-iu_per_l": "1400.5",
        "hcg-2-taken_at": "",
        "pain": "significant",
        "haemodynamically_unstable": "no",
        "rhesus_d": "negative",
    }
    built = forms.clinician_episode(form)
    episode = built.episode
    assert episode["allergies"] == ["peanut", "penicillin"]
    assert episode["scans"] == [
        {
            "date": "2024-03-01",
            "location": "unknown",
            "route": "transvaginal",
            "fetal_pole": None,
            "fetal_heartbeat": None,
            "crl_verified": True,  # the form's default: a CRL entered is a final result
        }
    ]
    assert [s["iu_per_l"] for s in episode["hcg"]] == [800.0, 1400.5]
    assert episode["pain"] == "significant" and episode["haemodynamically_unstable"] is False
    # An error on the first scan sent is drawn beside the form's second row.
    assert built.inputs["scans[0].date"] == "scans-1-date"
    assert built.labels["scans[0].date"] == "Scan 2: scan date"
    parse_episode(episode)
    assert forms.rows_to_show(form, forms.GROUPS[3].repeat) == [0, 1]
    assert forms.rows_to_show(form, forms.GROUPS[3].repeat, add=True) == [0, 1, 2]
    assert forms.rows_to_show({}, forms.GROUPS[4].repeat) == [0, 1]


def test_every_contract_field_has_a_form_field():
    """New contract fields (heavy_bleeding, previous_ectopic, ...) are one line in forms.GROUPS."""
    schema = episode_json_schema()
    wanted = set()
    for name, prop in schema["properties"].items():
        ref = (prop.get("items") or {}).get("$ref", "")
        if ref:
            for sub in schema["$defs"][ref.rsplit("/", 1)[-1]]["properties"]:
                wanted.add(f"{name}[].{sub}")
        else:
            wanted.add(name)
    assert sorted(wanted - forms.contract_paths()) == []
    assert sorted(forms.contract_paths() - wanted) == []


def test_parse_form():
    assert forms.parse_form(b"a=1&b=&c=x%2By&a=2") == {"a": "2", "b": "", "c": "x+y"}


def test_i_dont_know_is_unknown_never_no():
    episode = forms.check_episode(
        {"scan": "dont_know", "bleeding": "dont_know", "miscarriages": "dont_know"}, TODAY
    )
    assert episode["scans"] == []
    assert episode["vaginal_bleeding"] is None
    assert episode["previous_miscarriages"] is None
    assert forms.check_episode({}, TODAY)["vaginal_bleeding"] is None


def test_new_contract_fields_sit_in_the_history_groups_a_clinician_uses():
    where = {f.name: group.key for group in forms.GROUPS for f in (*group.fields, *group.after)}
    assert where["heavy_bleeding"] == "presentation"  # with the other symptoms
    assert where["previous_ectopic"] == "history"
    assert where["ectopic_ruptured"] == "scans"  # with the ectopic's adnexal mass
    assert where["second_opinion_no_heartbeat"] == "scans"
    form = {
        **forms.clinician_defaults(TODAY),
        "heavy_bleeding": "yes",
        "previous_ectopic": "no",
        "ectopic_ruptured": "unknown",
        "second_opinion_no_heartbeat": "yes",
    }
    episode = forms.clinician_episode(form).episode
    assert episode["heavy_bleeding"] is True and episode["previous_ectopic"] is False
    assert episode["ectopic_ruptured"] is None and episode["second_opinion_no_heartbeat"] is True


@pytest.mark.parametrize(
    "answer, heavy, referral",
    [
        ("heavy", True, "emergency_care"),
        ("yes", False, "needs_information"),  # pain and haemodynamic state are not asked
        ("no", False, "needs_information"),
        ("dont_know", None, "needs_information"),
    ],
)
def test_her_bleeding_answer_is_heavy_bleeding_for_the_referral(answer, heavy, referral):
    episode = forms.check_episode({"scan": "womb", "bleeding": answer}, TODAY)
    assert episode["heavy_bleeding"] is heavy
    assert assess(episode)["referral"]["decision"] == referral


def test_bad_pain_is_significant_pain_and_the_engine_sends_her_to_a_and_e():
    episode = forms.check_episode({"scan": "womb", "bleeding": "yes", "pain": "bad"}, TODAY)
    assert episode["pain"] == "significant"
    assert assess(episode)["referral"]["decision"] == "emergency_care"


def test_urgent_advice_follows_the_engines_referral():
    """The A&E advice and the symptom it names come from the referral's criteria (NG126 1.3)."""
    heavy = assess(forms.check_episode({"scan": "womb", "bleeding": "heavy"}, TODAY))
    urgent = plain.explain(heavy, {})["urgent"]  # no answers: the engine alone
    assert urgent == [plain.URGENT["heavy_bleeding"], plain.GO_NOW]
    pain = assess(forms.check_episode({"scan": "womb", "bleeding": "yes", "pain": "bad"}, TODAY))
    assert plain.explain(pain, {})["urgent"] == [plain.URGENT["bad_pain"], plain.GO_NOW]
    light = assess(forms.check_episode({"scan": "womb", "bleeding": "yes", "pain": "no"}, TODAY))
    assert plain.explain(light, {"bleeding": "yes", "pain": "no"})["urgent"] == []


def test_check_answers():
    episode = forms.check_episode(
        {"scan": "womb", "bleeding": "yes", "miscarriages": "3", "period": "2024-01-15"}, TODAY
    )
    assert episode["scans"] == [{"date": "2024-03-04", "location": "intrauterine"}]
    assert episode["previous_miscarriages"] == 3
    assert assess(episode)["progesterone"]["decision"] == "offer"
    assert forms.check_episode({"scan": "outside"}, TODAY)["scans"][0]["location"] == "ectopic"
    assert forms.check_episode({"scan": "unclear"}, TODAY)["scans"][0]["location"] == "unknown"


def _explain(answers):
    return plain.explain(assess(forms.check_episode(answers, TODAY)))


def test_plain_words_follow_the_engine():
    offer = _explain(
        {"scan": "womb", "bleeding": "yes", "miscarriages": "1", "period": "2024-01-15"}
    )
    assert offer["decision"] == "offer" and offer["stop_on"] == "2024-05-06"
    no = _explain({"scan": "womb", "bleeding": "no", "miscarriages": "1", "period": "2024-01-15"})
    assert no["decision"] == "do_not_offer"
    assert any("not bleeding" in s for s in no["why"])
    none_before = _explain(
        {"scan": "womb", "bleeding": "yes", "miscarriages": "0", "period": "2024-01-15"}
    )
    assert any("have not had a miscarriage" in s for s in none_before["why"])
    unknown = _explain({"scan": "dont_know", "bleeding": "yes", "miscarriages": "dont_know"})
    assert unknown["decision"] == "needs_information"
    assert any("scan" in m for m in unknown["missing"]) and any(
        "miscarriages" in m for m in unknown["missing"]
    )


def test_plain_text_never_tells_her_to_start_or_stop_medicine():
    texts = [
        *plain.HEADLINES.values(),
        *plain.OFFER_TEXT,
        *plain.NOT_MET.values(),
        *plain.ADVICE.values(),
        *plain.ASK,
    ]
    joined = " ".join(texts).lower()
    for phrase in (
        "start taking",
        "stop taking",
        "start using",
        "stop using",
        "you should take",
        "take progesterone",
    ):
        assert phrase not in joined


def _words_per_sentence(text):
    import re

    sentences = [s for s in re.split(r"[.!?]+", text) if s.strip()]
    return sum(len(s.split()) for s in sentences) / len(sentences)


def test_plain_text_uses_short_sentences():
    texts = [*plain.OFFER_TEXT, *plain.NOT_MET.values(), *plain.ADVICE.values()]
    assert _words_per_sentence(" ".join(texts)) < 15


def test_plain_words_say_what_already_fits():
    partial = _explain({"scan": "womb", "bleeding": "yes", "miscarriages": "2"})  # no period date
    assert partial["decision"] == "needs_information"
    assert partial["so_far"] == [
        "Your scan showed the pregnancy is in your womb.",
        "You are bleeding.",
        "You have had a miscarriage before.",
    ]


def test_no_filled_row_is_ever_dropped():
    repeat = forms.GROUPS[4].repeat
    form = {"hcg-20-taken_at": "2024-03-01T09:00", "hcg-20-iu_per_l": "800"}
    assert forms.rows_to_show(form, repeat) == [*range(12), 20]
    assert len(forms.clinician_episode(form).episode["hcg"]) == 1
    full = {f"hcg-{i}-iu_per_l": "1" for i in range(forms.MAX_ROWS)}
    assert forms.rows_to_show(full, repeat, add=True) == list(range(forms.MAX_ROWS))
