"""The reference engine: one episode in, a full assessment (decision, plan, reasons, trace) out.

Every other engine must agree with this one on the decision, recommendations and missing fields.
"""

from __future__ import annotations

from typing import Any

from earlypath import __version__
from earlypath.dating import CRL_GESTATION_DAYS, GESTATION_DAYS, Gestation
from earlypath.engines.evaluate import compile_expr
from earlypath.engines.tables import TableResult, evaluate_table
from earlypath.facts import episode_facts
from earlypath.guideline.pathway import DEFAULT_PATHWAY_POLICY, PathwayPolicy, Section, sections
from earlypath.guideline.progesterone import progesterone_table
from earlypath.guideline.versions import resolve_version
from earlypath.model import Episode, parse_episode
from earlypath.plan import build_plan
from earlypath.policy import DEFAULT_POLICY, Policy
from earlypath.rules.decision import DecisionTable

_gestation_days = compile_expr(GESTATION_DAYS)
_crl_days = compile_expr(CRL_GESTATION_DAYS)


def gestation_of(facts: dict[str, Any]) -> Gestation | None:
    days = _gestation_days(facts)
    if days is None:
        return None
    if _crl_days(facts) is not None:
        return Gestation(days, "crl", facts["dating_scan_date"])
    return Gestation(days, "lmp")


def _reasons(result: TableResult) -> list[str]:
    if result.verdict is None:
        return ["The rules do not cover this combination of facts: review clinically."]
    if result.outcome == "needs_information":
        wanted: bool | None = None
    elif result.verdict.mode == "any_false":
        wanted = False
    else:
        wanted = True
    return [r.says() for r in result.results if r.value is wanted and r.says()]


def _advice(table: DecisionTable, facts: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    out = []
    for advice in table.advice:
        if advice.outcomes and outcome not in advice.outcomes:
            continue
        if compile_expr(advice.expr)(facts) is True:
            out.append(
                {"id": advice.id, "recommendation": advice.recommendation, "text": advice.text}
            )
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _trace(result: TableResult, facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "branch": result.branch,
        "verdict": result.verdict.outcome if result.verdict else None,
        "criteria": [r.trace(facts) for r in result.results],
    }


def _section(
    section: Section, version: str, pathway: PathwayPolicy, facts: dict[str, Any]
) -> dict[str, Any]:
    """One pathway section: the main table's decision, the other tables, values and citations."""
    tables = section.tables(version, pathway)
    results = {name: evaluate_table(table, facts) for name, table in tables.items()}
    outcomes = {name: r.outcome for name, r in results.items()}
    values = {
        name: compile_expr(expr)(facts) for name, expr in section.values(version, pathway).items()
    }
    sources = section.sources(version, pathway)
    main, main_table = results["main"], tables["main"]
    advice = _advice(main_table, facts, main.outcome)

    cited: list[tuple[str, DecisionTable]] = []
    for name, result in results.items():
        for number in result.recommendations:
            if (number, tables[name]) not in cited:
                cited.append((number, tables[name]))
    for item in advice:
        number = item["recommendation"]
        if number and (number, main_table) not in cited:
            cited.append((number, main_table))
    citations: list[dict[str, Any]] = []
    for number, table in cited:
        r = table.recommendations.get(number)
        if r is not None and not any(c["number"] == r.number for c in citations):
            citations.append(
                {
                    "guideline": r.guideline,
                    "version": r.version,
                    "number": r.number,
                    "number_source": sources.get(number, "unverified"),
                    "summary": r.summary,
                    "url": r.url,
                }
            )
    out: dict[str, Any] = {"decision": main.outcome}
    out.update(section.render(outcomes, values, version))
    out.update(
        {
            "recommendations": list(main.recommendations),
            "citations": citations,
            "reasons": _reasons(main),
            "missing": list(main.missing),
            "advice": advice,
            "trace": _trace(main, facts),
        }
    )
    others = {name: r for name, r in results.items() if name != "main"}
    if others:
        out["other_decisions"] = {
            name: {
                "decision": r.outcome,
                "recommendations": list(r.recommendations),
                "missing": list(r.missing),
                "trace": _trace(r, facts),
            }
            for name, r in others.items()
        }
    return _jsonable(out)


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
    result = evaluate_table(table, facts)
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
    advice = _advice(table, facts, outcome)
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
                }
                for n in cited
                if (r := table.recommendations.get(n)) is not None
            ],
            "reasons": _reasons(result),
            "missing": list(result.missing),
            "advice": advice,
            "plan": plan,
            "trace": {
                "branch": result.branch,
                "verdict": result.verdict.outcome if result.verdict else None,
                "criteria": [r.trace(facts) for r in result.results],
            },
        },
    }
    assessment["pathway_policy"] = pathway_policy.describe()
    for section in sections():
        assessment[section.name] = _section(section, version.version, pathway_policy, facts)
    return assessment
