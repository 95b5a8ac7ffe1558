"""The cross-field checks' generated "breaks any check?" function against the closures (the
reference reading, which writes each problem), on episodes built to break them (issue 16)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earlypath.errors import InputError
from earlypath.model import Episode, HcgSample, Scan, parse_episode, parse_episode_json
from earlypath.model import checks as checks_module
from earlypath.model.checks import CROSS_FIELD_CHECKS, broken_checks, broken_checks_by_closures
from earlypath.rules.ir import Fact, IsTrue, all_of

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from bench_assess import generate  # noqa: E402

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = dt.date(2024, 3, 10)
FIELDS = Episode.__pydantic_fields__


def _plan() -> Any:
    return checks_module._plan_for(CROSS_FIELD_CHECKS, FIELDS)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


# Days around the assessment, so that "after assessed_on" and "before the lmp" both happen.
near = st.integers(-400, 5).map(lambda days: DAY + dt.timedelta(days=days))


@st.composite
def scans(draw: st.DrawFn) -> Scan:
    return Scan.model_construct(
        date=draw(near),
        route=draw(st.sampled_from(["transvaginal", "transabdominal"])),
        location=draw(st.sampled_from(["intrauterine", "ectopic", "unknown"])),
        fetal_pole=draw(maybe(st.booleans())),
        fetal_heartbeat=draw(maybe(st.booleans())),
        crl_mm=draw(maybe(st.sampled_from([0.0, 3.5, 9.0]))),
        msd_mm=draw(maybe(st.sampled_from([5.0, 25.0]))),
    )


@st.composite
def samples(draw: st.DrawFn) -> HcgSample:
    taken = dt.datetime.combine(draw(near), dt.time(draw(st.integers(0, 23))))
    if draw(st.booleans()):
        taken = taken.replace(tzinfo=dt.timezone(dt.timedelta(hours=draw(st.integers(-5, 5)))))
    return HcgSample.model_construct(taken_at=taken, iu_per_l=draw(st.sampled_from([5.0, 900.0])))


@st.composite
def unchecked_episodes(draw: st.DrawFn) -> Episode:
    """Episodes as the checks see them (each field of its type), not validated: many break one
    or several checks, in every scope."""
    return Episode.model_construct(
        assessed_on=DAY,
        lmp=draw(maybe(near)),
        vaginal_bleeding=draw(maybe(st.booleans())),
        heavy_bleeding=draw(maybe(st.booleans())),
        miscarriage_diagnosed=draw(st.booleans()),
        miscarriage_type=draw(maybe(st.sampled_from(["missed", "complete"]))),
        second_opinion_no_heartbeat=draw(st.booleans()),
        scans=draw(st.lists(scans(), max_size=3)),
        hcg=draw(st.lists(samples(), max_size=3)),
        on_progesterone=draw(maybe(st.booleans())),
        on_other_progestogen=draw(st.booleans()),
    )


@SETTINGS
@given(unchecked_episodes())
def test_the_generated_function_agrees_with_the_closures(episode: Episode) -> None:
    plan = _plan()
    assert plan.any_broken is not None
    want = broken_checks_by_closures(episode, plan)
    assert plan.any_broken(episode) is bool(want), plan.any_broken.source
    assert broken_checks(episode, FIELDS) == want


def test_the_episodes_break_every_check() -> None:
    """The strategy above reaches every check (else the agreement would prove little)."""
    broken: set[str] = set()

    @settings(max_examples=1500, deadline=None, database=None)
    @given(unchecked_episodes())
    def collect(episode: Episode) -> None:
        for _, message, _ in broken_checks_by_closures(episode, _plan()):
            broken.add(message)

    collect()
    assert broken == {check.message for check in CROSS_FIELD_CHECKS}


def test_the_benchmark_episodes_break_none() -> None:
    plan = _plan()
    for text in generate(2000, seed=13):
        episode = parse_episode_json(text)
        assert plan.any_broken(episode) is False
        assert broken_checks_by_closures(episode, plan) == []


def test_a_broken_episode_gets_the_closures_problems() -> None:
    with pytest.raises(InputError) as caught:
        parse_episode(
            {
                "assessed_on": DAY.isoformat(),
                "lmp": (DAY + dt.timedelta(days=2)).isoformat(),
                "scans": [
                    {
                        "date": DAY.isoformat(),
                        "location": "unknown",
                        "fetal_pole": False,
                        "fetal_heartbeat": True,
                    }
                ],
            }
        )
    assert [f"{p.field}: {p.message}" for p in caught.value.problems] == [
        "lmp: is after assessed_on",
        "scans[0].date: is before the lmp",
        "scans[0].fetal_pole: is false but fetal_heartbeat is true",
    ]


def test_a_check_added_to_the_list_is_in_the_generated_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made_up = checks_module.CrossFieldCheck(
        "episode",
        "vaginal_bleeding",
        all_of(IsTrue(Fact("vaginal_bleeding", "bool")), IsTrue(Fact("on_progesterone", "bool"))),
        "is true and so is on_progesterone (a check made up by the test)",
    )
    monkeypatch.setattr(checks_module, "CROSS_FIELD_CHECKS", (*CROSS_FIELD_CHECKS, made_up))
    episode = {"assessed_on": DAY.isoformat(), "vaginal_bleeding": True, "on_progesterone": True}
    with pytest.raises(InputError) as caught:
        parse_episode(episode)
    assert [p.message for p in caught.value.problems] == [made_up.message]
    plan = checks_module._plan_for(checks_module.CROSS_FIELD_CHECKS, FIELDS)
    assert plan.any_broken is not None and "on_progesterone" in plan.any_broken.source


def test_a_generated_function_that_raises_leaves_the_closures_to_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = _plan()

    def broken(_: Any) -> bool:
        raise RuntimeError("a fault in the generated function")

    monkeypatch.setattr(checks_module, "_plan", dataclasses.replace(plan, any_broken=broken))
    with pytest.raises(InputError) as caught:
        parse_episode({"assessed_on": DAY.isoformat(), "lmp": "2024-03-12"})
    assert [p.message for p in caught.value.problems] == ["is after assessed_on"]


def test_every_check_is_written_as_a_two_valued_test() -> None:
    """The generated function asks each check "is it True?" with no Unknown carried as a value
    (no three-valued expression then ``is True``); the agreement test above holds its answers."""
    source = _plan().any_broken.source
    assert ") is True:" not in source and " else " not in source.split("mixed_zones")[-1]
    assert source.count("return True") == len(CROSS_FIELD_CHECKS)
