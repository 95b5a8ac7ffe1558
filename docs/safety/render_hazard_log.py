"""Write hazard-log.md from hazard-log.json (run after editing the JSON):

    .venv/bin/python docs/safety/render_hazard_log.py

tests/unit/test_safety_case.py fails if hazard-log.md is not what this script writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def render(log: dict[str, Any]) -> str:
    m = log["risk_matrix"]
    out: list[str] = []
    w = out.append
    w("# earlypath hazard log (DCB0129 style)\n")
    w(
        "The machine-readable log is [`hazard-log.json`](hazard-log.json); this page is written "
        "from it by `render_hazard_log.py`, and `tests/unit/test_safety_case.py` fails if the two "
        "disagree, if a rating does not follow the matrix, or if a control names a test that does "
        "not exist.\n"
    )
    w(f"- System: {log['system']}. Scope: {log['scope']}.")
    w(
        f"- Clinical safety officer: {log['clinical_safety_officer']}. "
        f"Last reviewed: {log['last_reviewed']}.\n"
    )
    w("## Risk matrix\n")
    w("Severity: " + "; ".join(f"{k} {v}" for k, v in m["severity"].items()) + ".  ")
    w("Likelihood: " + "; ".join(f"{k} {v}" for k, v in m["likelihood"].items()) + ".\n")
    w("| likelihood \\ severity | 1 | 2 | 3 | 4 | 5 |")
    w("|---|---|---|---|---|---|")
    for lik in ["5", "4", "3", "2", "1"]:
        cells = " | ".join(str(x) for x in m["rating_by_likelihood_then_severity"][lik])
        w(f"| {lik} {m['likelihood'][lik]} | {cells} |")
    w("")
    w("Ratings: " + "; ".join(f"**{k}** {v}" for k, v in m["rating_meaning"].items()) + ".\n")
    w("## Summary\n")
    w("| id | hazard | initial (S/L = rating) | residual (S/L = rating) | status |")
    w("|---|---|---|---|---|")
    for h in log["hazards"]:
        i, r = h["initial"], h["residual"]
        w(
            f"| {h['id']} | {h['title']} | {i['severity']}/{i['likelihood']} = {i['rating']} "
            f"| {r['severity']}/{r['likelihood']} = {r['rating']} | {h['status']} |"
        )
    w("")
    for h in log["hazards"]:
        i, r = h["initial"], h["residual"]
        w(f"## {h['id']}: {h['title']}\n")
        w("**Causes**\n")
        for cause in h["causes"]:
            w(f"- {cause}")
        w("")
        w(f"**Effect**: {h['effect']}  ")
        w(f"**Harm**: {h['harm']}  ")
        w(
            f"**Initial risk**: severity {i['severity']} ({m['severity'][str(i['severity'])]}), "
            f"likelihood {i['likelihood']} ({m['likelihood'][str(i['likelihood'])]}): "
            f"rating **{i['rating']}**\n"
        )
        w("**Controls**\n")
        for c in h["controls"]:
            w(f"- **{c['id']}** ({c['type']}): {c['description']}")
            for test in c["verified_by"]:
                w(f"  - `{test}`")
            if not c["verified_by"]:
                w("  - not yet verified by a test (see notes)")
        w("")
        w(
            f"**Residual risk**: severity {r['severity']} ({m['severity'][str(r['severity'])]}), "
            f"likelihood {r['likelihood']} ({m['likelihood'][str(r['likelihood'])]}): "
            f"rating **{r['rating']}**  "
        )
        w(f"**Status**: {h['status']}" + (f"  \n**Notes**: {h['notes']}" if h["notes"] else ""))
        w("")
    return "\n".join(out)


def main() -> None:
    log = json.loads((HERE / "hazard-log.json").read_text(encoding="utf-8"))
    (HERE / "hazard-log.md").write_text(render(log), encoding="utf-8")


if __name__ == "__main__":
    main()
