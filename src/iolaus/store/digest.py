"""The one way Iolaus stores a secret it hands out (API tokens, session cookies, the links that
follow a report, an appeal or a victim's submission): as the hex SHA-256 of the secret.

Every such secret is at least 192 random bits, so a fast hash loses nothing against guessing,
and a stored digest lets a secret be checked with one indexed lookup; a slow password hash
(Argon2) is for the low-entropy secrets people choose, which are console passwords only.
"""

from __future__ import annotations

import hashlib


def secret_digest(secret: str) -> str:
    """What the database holds instead of ``secret``."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
