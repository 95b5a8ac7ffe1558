"""What an OperationOutcome says about the data it comes with: whole, or not.

One rule for every reader: the CDS service's prefetch and fetched pages (`earlypath.web.prefetch`)
and the FHIR audit's bulk export error files (`earlypath.audit.fhir_files`). An issue of severity
fatal or error means data is missing. So does an issue whose code says the answer is not all
there, whatever its severity: servers send those as warnings (or information) beside what they
could give (FHIR R4 issue-type: incomplete "not all data sources ... responded", too-costly,
timeout, throttled, suppressed "not all data ... shared"). An outcome that does not say what it
is (no issues) is taken as data missing: refused rather than guessed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NOT_ERRORS", "PARTIAL_ISSUES", "says_data_missing"]

NOT_ERRORS = ("warning", "information")
PARTIAL_ISSUES = ("incomplete", "too-costly", "timeout", "throttled", "suppressed")


def says_data_missing(outcome: dict[str, Any]) -> bool:
    """Does this OperationOutcome say that data is missing from what it comes with?"""
    issues = outcome.get("issue")
    if not isinstance(issues, list) or not issues:
        return True
    return any(
        not isinstance(i, dict)
        or i.get("severity") not in NOT_ERRORS
        or i.get("code") in PARTIAL_ISSUES
        for i in issues
    )
