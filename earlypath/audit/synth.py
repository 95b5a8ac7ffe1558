"""Moved to `earlypath.synth.cohort`; this name stays so older imports keep working."""

from earlypath.synth.cohort import CHUNK, SynthFormat, generate_chunks, write_cohort

__all__ = ["CHUNK", "SynthFormat", "generate_chunks", "write_cohort"]
