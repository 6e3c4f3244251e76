"""DSA statements of reasons (Art. 17) in the Transparency Database format (Art. 24(5)).

A statement is the body of ``POST /api/v1/statement`` as of the schema in force since 1 July 2025.
It goes to the affected user and, without personal data, to the Commission's public database, so
its free text is assembled from fixed templates only: never the reviewer's notes, never a
description of the imagery, never a user's or victim's name. A check then rejects e-mail
addresses, @handles, platform ids and the account's names in every free-text field, in case a
reviewer-supplied legal or terms reference carries one.

By concern: ``enums`` (the database's enumerations and code lists, loaded from data files),
``model`` (the category mapping and the templates), ``validate`` (the database's rules and the
personal-data check), ``statements`` (built from a decision and stored: the subscriber to
``DecisionRecorded``) and ``transparency_db`` (the export format).
"""

from iolaus.legal.dsa.enums import COUNTRY_CODES, ENUMS, LANGUAGE_CODES
from iolaus.legal.dsa.model import PUID_PREFIX, StatementError, new_puid
from iolaus.legal.dsa.statements import (
    banned_account_ids,
    build_statement,
    create_statements,
    decision_actions,
    source_type_for,
)
from iolaus.legal.dsa.transparency_db import MAX_BATCH, export_lines, read_statements
from iolaus.legal.dsa.validate import (
    FREE_TEXT_FIELDS,
    KNOWN_FIELDS,
    personal_data_problems,
    validate_statement,
)

__all__ = [
    "COUNTRY_CODES",
    "ENUMS",
    "FREE_TEXT_FIELDS",
    "KNOWN_FIELDS",
    "LANGUAGE_CODES",
    "MAX_BATCH",
    "PUID_PREFIX",
    "StatementError",
    "banned_account_ids",
    "build_statement",
    "create_statements",
    "decision_actions",
    "export_lines",
    "new_puid",
    "personal_data_problems",
    "read_statements",
    "source_type_for",
    "validate_statement",
]
