"""The HTTP API: an HMA-compatible hashing, matching and curation API behind bearer tokens."""

from iolaus.web.app import create_app

__all__ = ["create_app"]
