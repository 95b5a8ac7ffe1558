"""What the route vignettes share (stops 44-46): a scan resource whose code names the scan's
route (a DiagnosticReport, `report_route_shapes`; a Procedure, `procedure_route_shapes`) beside
an eligible woman's findings (`scan_route_shapes.record`) with or without a method. Each shapes
module holds its own codes and shapes; the records, the export and the reading's check are
built here alike from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fhir_exports import Export, export_per_shape
from tests.integration.fhir_data import PATIENT_ID
from tests.records import scan_route_shapes as findings

# shape -> (the findings' method codings, the scan resource, the route read: None is Unknown)
RouteShapes = dict[str, tuple[list[dict[str, str]], dict[str, Any], str | None]]


def coded_scan(
    resource_type: str, code: dict[str, str], status: str, **dated: Any
) -> dict[str, Any]:
    """The scan as a ``resource_type`` of her record coded ``code`` (its text the display)."""
    return {
        "resourceType": resource_type,
        "id": "us",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [code], "text": code["display"]},
        **dated,
    }


@dataclass(frozen=True)
class RouteSource:
    """One kind of scan resource's route shapes, and those whose route disagrees with the
    finding's method (named)."""

    shapes: RouteShapes
    conflicting: frozenset[str]

    def record(self, shape: str) -> list[dict[str, Any]]:
        """The shape's woman: eligible, her scan's findings and the scan resource."""
        routes, scan, _ = self.shapes[shape]
        return [*findings.record(routes), scan]

    def export(self) -> Export:
        """A woman per shape (ids and references prefixed with the shape), her encounter
        today."""
        return export_per_shape({shape: self.record(shape) for shape in self.shapes})

    def check_reading(self, readings: list[dict[str, Any]]) -> None:
        """Each woman's scan day carries the route her scan resource gives (Unknown where it
        names none, or disagrees with the finding's method: then named)."""
        assert len(readings) == len(self.shapes)
        for got, (shape, (_, _, route)) in zip(readings, self.shapes.items(), strict=True):
            (scan,) = got["steps"]["scans"]
            assert scan["route"] == route, shape
            named = [m for _, m in got["problems"] if "name both a transvaginal" in m]
            assert len(named) == (shape in self.conflicting), shape
