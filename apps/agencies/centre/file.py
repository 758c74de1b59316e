"""The centre file's shape and how it is read: pydantic models of every section, and the YAML line each
key came from, so that a problem of shape or of meaning is named with its line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from django.db import models
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as ShapeError

from apps.agencies.models import (
    AgencyKind,
    ExaminationMethod,
    OperatingModel,
    Shift,
    TransportMode,
)
from apps.agencies.roles import Role
from apps.core.yamlfile import YamlSyntaxError, key_path, load_with_lines
from apps.intake.models import SourceKind
from apps.targeting.models.choices import RiskArea


def _choice(choices: type[models.TextChoices]) -> Any:
    return Literal[tuple(choices.values)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


#: What to look for in one risk area (``examination_focus``): 1 to 500 characters, as the admin allows.
_FocusText = Annotated[str, Field(min_length=1, max_length=500)]


class CentreSpec(_Strict):
    operating_model: _choice(OperatingModel)  # type: ignore[valid-type]
    national_agency: str
    four_eyes: dict[_choice(OperatingModel), bool] = Field(default_factory=dict)  # type: ignore[valid-type]
    #: What to look for per risk area, the start of every instruction of the area (absent: left as is;
    #: an area left out of a given map reads the product's words).
    examination_focus: dict[_choice(RiskArea), _FocusText] | None = None  # type: ignore[valid-type]


class AgencySpec(_Strict):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    kind: _choice(AgencyKind)  # type: ignore[valid-type]
    country: str = Field(pattern=r"^[A-Z]{2}$")


class PartnerSpec(_Strict):
    """A partner administration abroad: an agency of kind ``foreign_partner``."""

    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class PortSpec(_Strict):
    locode: str
    name: str = Field(min_length=1, max_length=200)
    mode: _choice(TransportMode)  # type: ignore[valid-type]
    iata: str = Field(default="", pattern=r"^([A-Z]{3})?$")
    timezone: str = "UTC"
    capacity: dict[_choice(Shift), dict[_choice(ExaminationMethod), int]] | None = None  # type: ignore[valid-type]


class SourceSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    kind: _choice(SourceKind)  # type: ignore[valid-type]
    owner: str
    legal_basis: str = Field(min_length=1)
    retention_days: int = Field(ge=1)
    mask_after_days: int = Field(ge=1)
    self_learning: bool
    shared_with: list[str] = Field(default_factory=list)
    description: str = ""


class RoleSpec(_Strict):
    """A role profile: what everyone given it holds (agency, role, ports; sources for system accounts)."""

    name: str = Field(min_length=1)
    agency: str
    role: _choice(Role)  # type: ignore[valid-type]
    title: str = Field(default="", max_length=100)
    ports: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class UserSpec(_Strict):
    username: str = Field(min_length=1, max_length=150)
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    role: str
    title: str | None = Field(default=None, max_length=100)
    staff: bool = False


class CentreFile(_Strict):
    centre: CentreSpec
    agencies: list[AgencySpec] = Field(default_factory=list)
    partners: list[PartnerSpec] = Field(default_factory=list)
    ports: list[PortSpec] = Field(default_factory=list)
    sources: list[SourceSpec] = Field(default_factory=list)
    roles: list[RoleSpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(default_factory=list)


class CentreFileError(ValueError):
    """Everything wrong with a file, each problem as ``file:line: key: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Located:
    """A parsed file: its data, and the line each key path came from (for messages)."""

    path: str
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, loc: Iterable) -> int:
        """The line of the deepest part of ``loc`` the file has (a missing key: its parent's line)."""
        loc = tuple(loc)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def problem(self, loc: Iterable, message: str) -> str:
        loc = tuple(loc)
        return f"{self.path}:{self.line_of(loc)}: {key_path(loc) or '(file)'}: {message}"


def read_centre_file(path: str | Path, text: str | None = None) -> tuple[CentreFile, Located]:
    """Parse and check the shape of a centre file; raises :class:`CentreFileError` naming each line."""
    where = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CentreFileError([f"{where}: cannot be read: {exc}"]) from None
    try:
        data, lines = load_with_lines(text)
    except YamlSyntaxError as exc:
        raise CentreFileError(
            [f"{where}:{exc.line}: {'not YAML: ' if exc.syntax else ''}{exc.problem}"]
        ) from None
    if data is None:
        raise CentreFileError([f"{where}: the file is empty"])
    located = Located(where, data, lines)
    if not isinstance(located.data, dict):
        raise CentreFileError([f"{where}:1: the file must be a mapping with a 'centre' key"])
    try:
        spec = CentreFile.model_validate(located.data)
    except ShapeError as exc:
        raise CentreFileError([located.problem(e["loc"], _shape_message(e)) for e in exc.errors()]) from None
    return spec, located


def _shape_message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "not a key this file knows (a typing mistake?)"
    if error["type"] == "missing":
        return "required"
    if error["type"] == "literal_error":
        return f"{error['input']!r} is not one of {error['ctx']['expected']}"
    if error["type"] == "string_pattern_mismatch":
        return f"{error['input']!r} does not have the expected form ({error['ctx']['pattern']})"
    return error["msg"]
