"""A plan's fixed parts (the product, its notes, the stop rule's text, the checks) are written
once per policy and allergy reading (issue 16, CDS call): every plan equals the plan written
afresh, each plan's lists and dicts are its own, and the parts are not written again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from earlypath import plan as plan_module
from earlypath.dating import date_reaching, display
from earlypath.plan import (
    DOSE_MG,
    DOSES_PER_DAY,
    FIRST_PRESCRIPTION_DAYS,
    OFF_LABEL_NOTE,
    build_plan,
    choose_product,
)
from earlypath.policy import Policy
from earlypath.products import SMPC_CHECKS

POLICIES = [
    Policy(stop_at=stop_at, preferred_product=product)
    for stop_at in ("16+0", "16+6")
    for product in ("utrogestan", "cyclogest", "prometrium")
]


def written_afresh(
    assessed_on: dt.date, days: int, policy: Policy, allergy: bool, recorded: bool
) -> dict[str, Any]:
    """The plan as `build_plan` wrote it before its fixed parts were kept (stop 28)."""
    product, product_notes = choose_product(policy, allergy)
    stop_on = date_reaching(assessed_on, days, policy.stop_day)
    to_stop = max((stop_on - assessed_on).days, 0)
    per_dose = product.units_per_400mg_dose
    checks = list(SMPC_CHECKS)
    if not recorded:
        checks.insert(0, "No allergies are recorded: ask about peanut and soya allergy first.")
    return {
        "drug": "micronised progesterone",
        "route": "vaginal",
        "dose_mg": DOSE_MG,
        "frequency": "twice daily",
        "start_on": assessed_on.isoformat(),
        "stop_on": stop_on.isoformat(),
        "stop_rule": f"stop on the day gestation reaches {display(policy.stop_day)} (policy stop_at)",
        "days_to_stop_date": to_stop,
        "product": {
            "key": product.key,
            "name": product.name,
            "unit": product.unit,
            "strength_mg": product.strength_mg,
            "units_per_dose": per_dose,
            "contains_soya_lecithin": product.contains_soya_lecithin,
            "licence": product.licence_note,
            "smpc": product.smpc_url,
        },
        "product_notes": product_notes,
        "units_first_14_days": min(to_stop, FIRST_PRESCRIPTION_DAYS) * DOSES_PER_DAY * per_dose,
        "units_to_stop_date": to_stop * DOSES_PER_DAY * per_dose,
        "off_label": OFF_LABEL_NOTE,
        "check_before_prescribing": checks,
    }


@given(
    assessed_on=st.dates(dt.date(2019, 1, 1), dt.date(2030, 12, 31)),
    days=st.integers(0, 140),
    policy=st.sampled_from(POLICIES),
    allergy=st.booleans(),
    recorded=st.booleans(),
)
def test_every_plan_is_the_plan_written_afresh(
    assessed_on: dt.date, days: int, policy: Policy, allergy: bool, recorded: bool
) -> None:
    for _ in range(2):  # written, then from the kept parts
        got = build_plan(
            assessed_on=assessed_on,
            gestation_days=days,
            policy=policy,
            peanut_or_soya_allergy=allergy,
            allergies_recorded=recorded,
        )
        want = written_afresh(assessed_on, days, policy, allergy, recorded)
        assert got == want
        # the same keys in the same order (the JSON text follows it), of the same types
        assert list(got) == list(want) and list(got["product"]) == list(want["product"])
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]


def _plan(policy: Policy = POLICIES[0], allergy: bool = False) -> dict[str, Any]:
    return build_plan(
        assessed_on=dt.date(2024, 3, 4),
        gestation_days=49,
        policy=policy,
        peanut_or_soya_allergy=allergy,
        allergies_recorded=False,
    )


def test_each_plan_has_its_own_lists_and_dicts() -> None:
    first = _plan()
    first["product"]["name"] = "changed"
    first["product_notes"].append("changed")
    first["check_before_prescribing"].clear()
    second = _plan()
    assert second == written_afresh(dt.date(2024, 3, 4), 49, POLICIES[0], False, False)
    assert second["product"] is not first["product"]


def test_the_fixed_parts_are_written_once_per_policy_and_allergy_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan_module._fixed_parts.cache_clear()  # what other tests kept
    policy = Policy(stop_at="16+6", preferred_product="prometrium")
    before = _plan(policy, allergy=True)

    def refuse(*_: Any) -> Any:
        raise AssertionError("the product was chosen again")

    monkeypatch.setattr(plan_module, "choose_product", refuse)
    assert _plan(policy, allergy=True) == before  # kept: not chosen again
    with pytest.raises(AssertionError, match="chosen again"):
        _plan(policy, allergy=False)  # another allergy reading: its own parts
