"""A copy of a FHIR export with each MedicationRequest's medicine moved into a Medication exported
beside it (Medication.ndjson), named by ``"medicationReference": {"reference": "Medication/<id>"}``:
how many EHRs' bulk exports name medicines. For counting what reading such an export costs
(stop 36: `fhir_flatten_instructions.py --folder <the copy>`).

Run: .venv/bin/python benchmarks/with_exported_medications.py <export> <copy>
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.copytree(source, target, dirs_exist_ok=True)
    medications, requests = [], []
    for line in (source / "MedicationRequest.ndjson").read_text(encoding="utf-8").splitlines():
        request = json.loads(line)
        concept = request.pop("medicationCodeableConcept", None)
        if concept is not None:
            mid = "med-" + request["id"]
            medications.append({"resourceType": "Medication", "id": mid, "code": concept})
            request["medicationReference"] = {"reference": "Medication/" + mid}
        requests.append(request)
    for kind, resources in (("MedicationRequest", requests), ("Medication", medications)):
        text = "".join(json.dumps(r) + "\n" for r in resources)
        (target / f"{kind}.ndjson").write_text(text, encoding="utf-8")
    print(len(requests), "requests,", len(medications), "Medications")


if __name__ == "__main__":
    main()
