"""The reference engine: one episode in, a full assessment (decision, plan, reasons, trace) out.

Every other engine must agree with this one on the decision, recommendations and missing fields.
"""

from __future__ import annotations

from typing import Any

from earlypath import __version__
from earlypath.dating import CRL_GESTATION_DAYS, GESTATION_DAYS, Gestation
from earlypath.engines.evaluate import compile_expr
from earlypath.engines.sections import assess_section
from earlypath.engines.tables import compile_table, reasons
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, PathwayPolicy, sections
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import resolve_version
from earlypath.model import Episode, parse_episode
from earlypath.plan import build_plan
from earlypath.policy import DEFAULT_POLICY, Policy

_gestation_days = compile_expr(GESTATION_DAYS)
_crl_days = compile_expr(CRL_GESTATION_DAYS)


def gestation_of(facts: dict[str, Any]) -> Gestation | None:
    days = _gestation_days(facts)
    if days is None:
        return None
    if _crl_days(facts) is not None:
        return Gestation(days, "crl", facts["dating_scan_date"])
    return Gestation(days, "lmp")


def assess(
    episode: Episode | dict[str, Any],
    policy: Policy = DEFAULT_POLICY,
    pathway_policy: PathwayPolicy = DEFAULT_PATHWAY_POLICY,
) -> dict[str, Any]:
    """Assess one episode against the NG126 version that applies to it.

    Accepts a validated `Episode` or a mapping (validated here; `InputError` if it breaks the
    contract). Returns the assessment as JSON-ready data: the progesterone decision, then one
    section per pathway topic (referral, scans, hCG, ectopic, miscarriage, anti-D).
    """
    if not isinstance(episode, Episode):
        episode = parse_episode(episode)
    version, chosen_because = resolve_version(episode.assessed_on, episode.guideline_version)
    facts = episode_facts(episode)
    gestation = gestation_of(facts)
    table = progesterone_table(version.version, policy.stop_day)
    compiled = compile_table(table)
    result = compiled.evaluate(facts)
    outcome = result.outcome

    plan = None
    if outcome in ("offer", "continue") and gestation is not None:
        plan = build_plan(
            assessed_on=episode.assessed_on,
            gestation_days=gestation.days,
            policy=policy,
            peanut_or_soya_allergy=episode.peanut_or_soya_allergy,
            allergies_recorded=bool(episode.allergies),
        )
    cited = list(result.recommendations)
    advice = compiled.advice_for(facts, outcome)
    for item in advice:
        number = item["recommendation"]
        if number and number not in cited:
            cited.append(number)

    assessment: dict[str, Any] = {
        "earlypath_version": __version__,
        "assessed_on": episode.assessed_on.isoformat(),
        "guideline": {**version.as_dict(), "chosen_because": chosen_because},
        "policy": policy.describe(),
        "gestation": gestation.as_dict() if gestation else None,
        "progesterone": {
            "decision": outcome,
            "recommendations": list(result.recommendations),
            "citations": [
                {
                    "guideline": r.guideline,
                    "version": r.version,
                    "number": r.number,
                    "summary": r.summary,
                    "url": r.url,
                    **r.in_force(),
                }
                for n in cited
                if (r := table.recommendations.get(n)) is not None
            ],
            "reasons": reasons(result),
            "missing": list(result.missing),
            "advice": advice,
            "plan": plan,
            "trace": result.trace_dict(),
        },
    }
    assessment["pathway_policy"] = pathway_policy.describe()
    for section in sections():
        assessment[section.name] = assess_section(section, version.version, pathway_policy, facts)
    return assessment
