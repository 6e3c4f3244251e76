"""The console's forms, each one pydantic model read once at the boundary (``Annotated[Model,
Form()]``): its fields' lengths are checked before a handler runs (a bad field is a 400 naming
it), and the choices a form carries become the domain's enums in one place.

Every form but login carries the session's CSRF token; handlers check it first, so a forged
request is refused before anything in it is interpreted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, Field

from iolaus.actions.kinds import kind_names
from iolaus.cases.decisions import DecisionError
from iolaus.model.cases import Ground

E = TypeVar("E", bound=StrEnum)


def _parse(enum: type[E], values: list[str]) -> list[E]:
    try:
        return [enum(v) for v in values]
    except ValueError:
        raise DecisionError(f"unknown {enum.__name__} in the form") from None


class LoginForm(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    csrf_token: str = Field(max_length=128)


class LogoutForm(BaseModel):
    csrf_token: str = Field(max_length=128)


class CsrfForm(BaseModel):
    """A form whose only field is the CSRF token (taking a case, revealing its media); sent
    without it, the CSRF check refuses it (403)."""

    csrf_token: str = Field("", max_length=128)


class DecisionForm(CsrfForm):
    """A reviewer's decision on a case (DSA Art. 17: finding, ground, references, actions)."""

    violation: str = Field("", max_length=3)
    category: str = Field("", max_length=32)
    ground: str = Field("", max_length=16)
    legal_reference: str = Field("", max_length=500)
    terms_reference: str = Field("", max_length=500)
    explanation: str = Field("", max_length=5000)
    actions: list[str] = Field(default_factory=list)

    def action_kinds(self) -> list[str]:
        """The chosen actions; ``DecisionError`` for a kind the console does not offer."""
        offered = kind_names()
        for kind in self.actions:
            if kind not in offered:
                raise DecisionError(f"unknown action {kind[:64]!r} in the form")
        return list(self.actions)

    def chosen_ground(self) -> Ground | None:
        return _parse(Ground, [self.ground])[0] if self.ground else None


class AppealDecisionForm(CsrfForm):
    """A second reviewer's outcome of an appeal (DSA Art. 20(4)): uphold, or reverse."""

    outcome: str = Field("", max_length=5000)
    reverse: str = Field("", max_length=3)
