"""Media hashing: PDQ for photos, vPDQ-compatible frame hashes for videos, MD5/SHA-256 for all.

Entry point: :func:`iolaus.hashing.media.hash_file`. Every refused input raises
:class:`iolaus.hashing.media.MediaError` (a ``ValueError``), so callers can hash untrusted files
in a loop and report failures one by one.
"""
