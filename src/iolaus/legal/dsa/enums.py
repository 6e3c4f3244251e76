"""The Transparency Database's enumerations and code lists, loaded from data files beside the
``legal`` package: ``dsa_sor_enums.json`` (a verbatim copy of the reference file) and
``dsa_codes.json`` (EEA country and ISO 639-1 language codes), so that a schema change at the
database is a data change, not a code one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("iolaus.legal").joinpath(name).read_text("utf-8")
    )
    return data


ENUMS: Mapping[str, frozenset[str]] = {
    name: frozenset(values) for name, values in _load("dsa_sor_enums.json").items()
}
_CODES = _load("dsa_codes.json")
COUNTRY_CODES: tuple[str, ...] = tuple(_CODES["EUROPEAN_COUNTRY_CODES"])
LANGUAGE_CODES: frozenset[str] = frozenset(_CODES["LANGUAGE_CODES"])
