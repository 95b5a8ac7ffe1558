"""Moved to `earlypath.synth.fhir_export`; this name stays so older imports keep working."""

from earlypath.synth.fhir_export import write_fhir

__all__ = ["write_fhir"]
