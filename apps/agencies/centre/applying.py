"""Applying a centre file: what exists brought in line with it, each change listed, in one transaction
(rolled back for a dry run)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.agencies.centre.file import (
    CentreFile,
    CentreFileError,
    Located,
    PortSpec,
    SourceSpec,
    UserSpec,
    read_centre_file,
)
from apps.agencies.models import (
    Agency,
    AgencyKind,
    CentreConfiguration,
    Membership,
    Port,
    PortCapacity,
)
from apps.agencies.roles import Role
from apps.intake.models import DataSource

#: The permission that shares a data source with another agency's group (``DataSource``'s docstring).
SHARE_PERMISSION = "intake.view_datasource"

#: Who acts when a file is applied: the installation itself, as ``createsuperuser`` does. History lines
#: it writes (a target re-routed by a change of operating model) carry no person. Typed ``Any``: it stands
#: in for a User where only ``is_superuser``, ``pk`` and ``username`` are read.
INSTALLATION: Any = SimpleNamespace(is_superuser=True, pk=None, username="setup_centre")


@dataclass
class Change:
    """One thing a run created, changed, granted, revoked or removed."""

    action: Literal["create", "update", "grant", "revoke", "remove"]
    what: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action:<7} {self.what}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Outcome:
    changes: list[Change]
    dry_run: bool

    def count(self, prefix: str) -> int:
        return sum(1 for c in self.changes if c.action == "create" and c.what.startswith(prefix))


class _DryRun(Exception):
    """Raised inside the transaction of a dry run, so that everything it did is rolled back."""


def setup_centre(
    path: str | Path, *, dry_run: bool = False, missing_only: bool = False, text: str | None = None
) -> Outcome:
    """Apply a centre file. ``missing_only`` creates what is missing and leaves what exists as it is
    (the demo's ``make demo`` run again over a floor people have changed)."""
    spec, located = read_centre_file(path, text)
    applier = _Applier(spec, located, missing_only=missing_only)
    try:
        with transaction.atomic():
            applier.apply()
            if applier.problems:
                raise CentreFileError(applier.problems)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return Outcome(applier.changes, dry_run)


class _Applier:
    def __init__(self, spec: CentreFile, located: Located, *, missing_only: bool):
        self.spec, self.located, self.missing_only = spec, located, missing_only
        self.changes: list[Change] = []
        self.problems: list[str] = []
        self.agencies: dict[str, Agency] = {}
        self.ports: dict[str, Port] = {}
        self.sources: dict[str, DataSource] = {}

    # -- helpers -----------------------------------------------------------------------------------
    def _sync(self, model: type[Any], lookup: dict, values: dict, what: str, loc: tuple) -> Any:
        """Create ``model`` with ``lookup`` + ``values``, or bring an existing one in line; validated."""
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            if self._valid(obj, loc):
                obj.save()
                self.changes.append(Change("create", what))
            return obj
        differs = {k: v for k, v in values.items() if getattr(obj, k) != v}
        if differs and not self.missing_only:
            detail = ", ".join(f"{k} {getattr(obj, k)!r} → {v!r}" for k, v in differs.items())
            for k, v in differs.items():
                setattr(obj, k, v)
            if self._valid(obj, loc):
                obj.save(update_fields=list(differs))
                self.changes.append(Change("update", what, detail))
        return obj

    def _valid(self, obj: Any, loc: tuple) -> bool:
        exclude = ["group"] if isinstance(obj, Agency) else []
        try:
            obj.full_clean(exclude=exclude, validate_unique=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                key = loc + ((_FILE_KEYS.get(name, name),) if name != "__all__" else ())
                self.problems += [self.located.problem(key, m) for m in messages]
            return False
        return True

    def _agency(self, code: str, loc: tuple) -> Agency | None:
        agency = self.agencies.get(code) or Agency.objects.filter(code=code).first()
        if agency is None:
            self.problems.append(self.located.problem(loc, f"no agency {code!r} in the file or the database"))
        return agency

    def _port(self, locode: str, loc: tuple) -> Port | None:
        port = self.ports.get(locode) or Port.objects.filter(locode=locode).first()
        if port is None:
            self.problems.append(self.located.problem(loc, f"no port {locode!r} in the file or the database"))
        return port

    def _source(self, name: str, loc: tuple) -> DataSource | None:
        source = self.sources.get(name) or DataSource.objects.filter(name=name).first()
        if source is None:
            self.problems.append(
                self.located.problem(loc, f"no data source {name!r} in the file or the database")
            )
        return source

    # -- sections ----------------------------------------------------------------------------------
    def apply(self) -> None:
        self._duplicates()
        if self.problems:
            return
        for i, a in enumerate(self.spec.agencies):
            values = {"name": a.name, "kind": a.kind, "country": a.country}
            self.agencies[a.code] = self._sync(
                Agency, {"code": a.code}, values, f"agency {a.code}", ("agencies", i)
            )
        for i, p in enumerate(self.spec.partners):
            values = {"name": p.name, "kind": AgencyKind.FOREIGN_PARTNER, "country": p.country}
            self.agencies[p.code] = self._sync(
                Agency, {"code": p.code}, values, f"partner {p.code}", ("partners", i)
            )
        for i, port in enumerate(self.spec.ports):
            self._apply_port(i, port)
        self._apply_centre()
        for i, source in enumerate(self.spec.sources):
            self._apply_source(i, source)
        for i, user in enumerate(self.spec.users):
            self._apply_user(i, user)

    def _duplicates(self) -> None:
        codes: dict[str, tuple] = {}
        sections = {
            "agencies": "code", "partners": "code", "ports": "locode", "sources": "name", "roles": "name",
            "users": "username",
        }  # fmt: skip
        for section, key in sections.items():
            seen: dict[str, int] = {}
            for i, item in enumerate(getattr(self.spec, section)):
                value = getattr(item, key)
                if section in ("agencies", "partners"):
                    if value in codes:
                        first = self.located.line_of(codes[value])
                        self.problems.append(self.located.problem((section, i, key), f"{value!r} is given twice (first on line {first})"))  # fmt: skip
                    codes.setdefault(value, (section, seen.get(value, i), key))
                elif value in seen:
                    first = self.located.line_of((section, seen[value], key))
                    self.problems.append(self.located.problem((section, i, key), f"{value!r} is given twice (first on line {first})"))  # fmt: skip
                seen.setdefault(value, i)
        roles = {r.name for r in self.spec.roles}
        for i, user in enumerate(self.spec.users):
            if user.role not in roles:
                known = ", ".join(sorted(roles)) or "none"
                self.problems.append(self.located.problem(("users", i, "role"), f"no role profile {user.role!r} (known: {known})"))  # fmt: skip

    def _apply_port(self, i: int, spec: PortSpec) -> None:
        loc = ("ports", i)
        values = {"name": spec.name, "mode": spec.mode, "iata_code": spec.iata, "timezone": spec.timezone}
        port = self._sync(Port, {"locode": spec.locode}, values, f"port {spec.locode}", loc)
        self.ports[spec.locode] = port
        if port.pk is None or spec.capacity is None:
            return
        wanted = {
            (shift, method): slots for shift, row in spec.capacity.items() for method, slots in row.items()
        }
        for (shift, method), slots in wanted.items():
            if slots < 0:
                self.problems.append(
                    self.located.problem((*loc, "capacity", shift, method), "slots cannot be negative")
                )
                continue
            self._sync(
                PortCapacity, {"port": port, "shift": shift, "method": method}, {"slots": slots},
                f"capacity {spec.locode} {shift} {method}", (*loc, "capacity", shift, method),
            )  # fmt: skip
        if self.missing_only:
            return
        for row in PortCapacity.objects.filter(port=port):
            if (row.shift, row.method) not in wanted:
                row.delete()
                self.changes.append(Change("remove", f"capacity {spec.locode} {row.shift} {row.method}", "not in the file"))  # fmt: skip

    def _apply_centre(self) -> None:
        spec, loc = self.spec.centre, ("centre",)
        national = self._agency(spec.national_agency, (*loc, "national_agency"))
        if national is None:
            return
        config = CentreConfiguration.current()
        if self.missing_only and config.national_agency_id is not None:
            return
        switches = {f"four_eyes_{model}": on for model, on in spec.four_eyes.items()}
        differs: dict[str, Any] = {k: v for k, v in switches.items() if getattr(config, k) != v}
        if config.national_agency_id != national.pk:
            differs["national_agency"] = national
        for name, value in differs.items():
            setattr(config, name, value)
        if differs:
            config.save()
            self.changes.append(Change("update", "centre configuration", ", ".join(sorted(differs))))
        self._apply_focus(spec.examination_focus)
        if config.operating_model != spec.operating_model:
            from apps.targeting.operating_model import change_operating_model

            before = config.operating_model
            rerouted = change_operating_model(
                actor=INSTALLATION, operating_model=spec.operating_model, config=config
            )
            self.changes.append(Change("update", "operating model", f"{before} → {spec.operating_model}; {rerouted.summary()}"))  # fmt: skip

    def _apply_focus(self, wanted: dict[str, str] | None) -> None:
        """The centre's words per risk area: written, changed, or (an area left out) removed, so that the
        area reads the product's words again. No key in the file leaves them as they are."""
        from apps.targeting.models import ExaminationFocus

        if wanted is None:
            return
        for area, text in wanted.items():  # each 1 to 500 characters (``CentreSpec``)
            loc = ("centre", "examination_focus", area)
            self._sync(
                ExaminationFocus, {"risk_area": area}, {"text": text}, f"examination focus {area}", loc
            )
        if self.missing_only:
            return
        for row in ExaminationFocus.objects.exclude(risk_area__in=list(wanted)):
            row.delete()
            self.changes.append(Change("remove", f"examination focus {row.risk_area}", "not in the file"))

    def _apply_source(self, i: int, spec: SourceSpec) -> None:
        from guardian.shortcuts import assign_perm, remove_perm

        from apps.agencies.scoping import agencies_granted

        loc = ("sources", i)
        owner = self._agency(spec.owner, (*loc, "owner"))
        shared = [self._agency(code, (*loc, "shared_with", j)) for j, code in enumerate(spec.shared_with)]
        if owner is None or None in shared:
            return
        values = {
            "kind": spec.kind, "owner_agency": owner, "legal_basis": spec.legal_basis,
            "retention_days": spec.retention_days, "depersonalise_after_days": spec.mask_after_days,
            "allows_self_learning": spec.self_learning, "description": spec.description,
        }  # fmt: skip
        existed = DataSource.objects.filter(name=spec.name).exists()
        source = self._sync(DataSource, {"name": spec.name}, values, f"source {spec.name!r}", loc)
        if source.pk is None:
            return
        self.sources[spec.name] = source
        if self.missing_only and existed:
            return
        holders = list(agencies_granted(source, SHARE_PERMISSION.split(".")[1]).select_related("group"))
        held = {a.group_id for a in holders}
        wanted = {a.group_id: a for a in shared if a is not None and a.pk != owner.pk}
        for group_id, agency in wanted.items():
            if group_id not in held:
                assign_perm(SHARE_PERMISSION, agency.group, source)
                self.changes.append(Change("grant", f"source {spec.name!r}", f"shared with {agency.code}"))
        for agency in (a for a in holders if a.group_id not in wanted):
            remove_perm(SHARE_PERMISSION, agency.group, source)
            self.changes.append(
                Change("revoke", f"source {spec.name!r}", f"no longer shared with {agency.code}")
            )

    def _apply_user(self, i: int, spec: UserSpec) -> None:
        loc = ("users", i)
        j, profile = next((j, r) for j, r in enumerate(self.spec.roles) if r.name == spec.role)
        agency = self._agency(profile.agency, ("roles", j, "agency"))
        ports = [self._port(code, ("roles", j, "ports", k)) for k, code in enumerate(profile.ports)]
        sources = [self._source(name, ("roles", j, "sources", k)) for k, name in enumerate(profile.sources)]
        if agency is None or None in ports or None in sources:
            return
        User = get_user_model()
        values: dict[str, Any] = {
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "email": spec.email,
        }
        # An administrator works in the admin (which shows him his own agency's objects only,
        # apps.core.admin); everyone else is staff only where the file says so.
        administrator = profile.role == Role.ADMINISTRATOR
        if spec.staff or administrator:
            values["is_staff"] = True
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(username=spec.username, **values)
            user.set_unusable_password()  # signs in through SSO, or after an administrator sets a password
            if not self._valid(user, loc):
                return
            user.save()
            if administrator:
                from django.contrib.auth.models import Permission

                user.user_permissions.set(Permission.objects.all())
            self.changes.append(Change("create", f"user {spec.username}", f"role profile {profile.name}"))
        else:
            self._sync(User, {"username": spec.username}, values, f"user {spec.username}", loc)
        title = profile.title if spec.title is None else spec.title
        membership = Membership.objects.filter(user=user).first()
        wanted = {"agency": agency, "role": profile.role, "title": title}
        if membership is None:
            membership = Membership.objects.create(user=user, **wanted)
            self.changes.append(
                Change("create", f"membership {spec.username}", f"{profile.role}, {agency.code}")
            )
        elif not self.missing_only:
            differs = {k: v for k, v in wanted.items() if getattr(membership, k) != v}
            if differs:
                detail = ", ".join(f"{k} → {v}" for k, v in differs.items())
                for k, v in differs.items():
                    setattr(membership, k, v)
                membership.save(update_fields=list(differs))
                self.changes.append(Change("update", f"membership {spec.username}", detail))
        else:
            return  # the demo run again: a membership people may have changed stays as it is
        for name, wanted_objects in (("ports", ports), ("sources", sources)):
            manager = getattr(membership, name)
            have = set(manager.values_list("pk", flat=True))
            want = {o.pk for o in wanted_objects if o is not None}
            if have != want:
                manager.set(want)
                self.changes.append(
                    Change("update", f"membership {spec.username}", f"{name} set to {len(want)}")
                )


#: Model field → the file's key, where they differ (for messages naming the line of the key).
_FILE_KEYS = {
    "iata_code": "iata",
    "depersonalise_after_days": "mask_after_days",
    "allows_self_learning": "self_learning",
    "owner_agency": "owner",
}
