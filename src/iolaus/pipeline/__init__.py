"""The pipeline service: ingest → detect → triage, the same for every entry point."""

from iolaus.pipeline.service import DrainOutcome, Pipeline

__all__ = ["DrainOutcome", "Pipeline"]
