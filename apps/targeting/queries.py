"""Read-side helpers shared by pages, the API and exports: queues, actions a viewer may take, filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from django.apps import apps as django_apps
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    JSONField,
    Min,
    OuterRef,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.agencies.models import Agency, CentreConfiguration, Port
from apps.agencies.operations import allows, can, membership_of
from apps.core.errors import id_or_none
from apps.targeting import transitions
from apps.targeting.models import OPEN_STATES, RiskArea, Target, TargetShare, TargetState, breach_q

S = TargetState

#: Set on a target by the code that loaded it through ``visible_to(user)`` in this request: the id of that
#: user. A service acting for the same user on this very object need not ask visibility again.
_LOADED_FOR = "_ratc_loaded_visible_to"


def loaded_through_scope(target: Target, user: Any) -> Target:
    """Note that ``target`` was just loaded through ``Target.objects.visible_to(user)`` (a view's, the
    API's ``get_object``): ``known_visible`` then spares the services the same visibility query."""
    target.__dict__[_LOADED_FOR] = getattr(user, "pk", None)
    return target


#: The target page's panels that are rows of a child table, by the relation that holds them.
_PANELS = ("holds", "shares", "comments", "instructions", "examination_results")

#: Panels of the target page whose rows an app above this one keeps (a partner's sightings, ``alerts``):
#: name -> (model label, its foreign key to the target). Registered by that app (``register_panel``), so
#: this app names no table of a layer above it.
_OTHER_PANELS: dict[str, tuple[str, str]] = {}


def register_panel(name: str, model: str, key: str) -> None:
    """Let the one query that loads a target for its page also say whether ``model`` (``"app.Model"``)
    has any row of it, by the foreign key ``key``; read back with ``has_panel(target, name)``."""
    _OTHER_PANELS[name] = (model, key)


class _AnyRow(Func):
    """``EXISTS (SELECT 1 FROM <child> WHERE <child>.<key> = <the target's id>)``: whether the target has
    any row at all in a child table.

    The same SQL as ``Exists(Child.objects.filter(target=OuterRef("pk")))`` without building and compiling
    a queryset per flag: five of them added about two thirds to the compilation of the page's one target
    query. The table and column come from the models' metadata; the target's id is the outer query's own
    column.
    """

    output_field = BooleanField()

    def __init__(self, table: str, column: str) -> None:
        self.table, self.column = table, column
        super().__init__(F("pk"))

    @classmethod
    def of_relation(cls, relation: str) -> _AnyRow:
        child: Any = Target._meta.get_field(relation)  # a reverse relation: the child's foreign key
        return cls(child.related_model._meta.db_table, child.field.column)

    @classmethod
    def of_model(cls, label: str, key: str) -> _AnyRow:
        model = django_apps.get_model(label)
        return cls(model._meta.db_table, model._meta.get_field(key).column)

    def as_sql(  # type: ignore[override]  # the template is this class's own, not the caller's
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        table, column = connection.ops.quote_name(self.table), connection.ops.quote_name(self.column)
        template = f"EXISTS (SELECT 1 FROM {table} WHERE {table}.{column} = %(expressions)s)"
        return super().as_sql(compiler, connection, template=template, **extra_context)


def panels_of(user: Any) -> dict[str, Any]:
    """Annotations for the one query that loads a target for its page: whether each child panel has any
    row of the target at all (``has_panel``), and whether the viewer may open its subject.

    A panel with no row is then not queried: the page shows it empty, as its scoped query would have
    found it. Each flag counts every row of the target, whoever may read it, so it can only spare a
    query that would have found nothing; a panel with rows is read through its own rule as before. The
    subject's flag is ``Subject.objects.visible_to(user)``, the one rule for subjects, asked inside the
    same query rather than after it.
    """
    from apps.intake.models import Subject

    flags: dict[str, Any] = {f"panel_{relation}": _AnyRow.of_relation(relation) for relation in _PANELS}
    flags.update({f"panel_{name}": _AnyRow.of_model(*where) for name, where in _OTHER_PANELS.items()})
    if can(user, "subject.view"):
        flags["panel_subject_visible"] = Exists(
            Subject.objects.visible_to(user).filter(pk=OuterRef("subject_id"))
        )
    return flags


def has_panel(target: Target, relation: str) -> bool:
    """Whether ``target`` may have rows of ``relation`` for its page: False only when it was loaded with
    ``panels_of`` and has none at all; True (ask) for a target loaded any other way."""
    return target.__dict__.get(f"panel_{relation}", True) is not False


def known_visible(target: Target, user: Any) -> bool | None:
    """True when ``target`` was loaded through ``user``'s scope in this request (``loaded_through_scope``),
    else None: ``operations.check`` then asks the database, as for any object."""
    pk = getattr(user, "pk", None)
    return True if pk is not None and target.__dict__.get(_LOADED_FOR) == pk else None


#: The columns ``move_context`` adds to the API's query of a target about to be moved.
_PROPOSERS, _CONFIG, _ASSESSMENT, _SHARES = "ratc_proposers", "ratc_config", "ratc_assessment", "ratc_shares"


def _json_object(meta: Any, alias: str, quote: Any) -> str:
    """``jsonb_build_object`` of every concrete column of a row of ``meta``'s table, by attribute name."""
    pairs = ", ".join(f"'{f.attname}', {alias}.{quote(f.column)}" for f in meta.concrete_fields)
    return f"jsonb_build_object({pairs})"


def _from_json(model: Any, row: dict[str, Any], db: str) -> Any:
    """The instance ``_json_object`` gave: each value through its field's ``to_python``, as loaded."""
    fields = model._meta.concrete_fields
    return model.from_db(db, [f.attname for f in fields], [f.to_python(row[f.attname]) for f in fields])


def _move_context_sql() -> dict[str, str]:
    """The sub-selects of ``move_context`` (PostgreSQL), from the models' metadata: the actors of the
    target's moves to awaiting approval, the centre's configuration row as JSON, the id of its
    subject's latest assessment, its shares with their agencies as JSON. The target is the outer
    query's own table."""
    from apps.targeting.models import Transition

    quote = connection.ops.quote_name
    target = quote(Target._meta.db_table)
    transition = quote(Transition._meta.db_table)
    config = CentreConfiguration._meta
    primary: Any = config.pk
    shares, agencies = TargetShare._meta, Agency._meta
    assessment: Any = Target._meta.get_field("subject").related_model._meta.get_field("assessments")
    assessments = assessment.related_model._meta
    return {
        _PROPOSERS: (
            f"(SELECT jsonb_agg(t.{quote('actor_id')}) FROM {transition} t WHERE t.{quote('target_id')} = "
            f"{target}.{quote('id')} AND t.{quote('to_state')} = '{S.AWAITING_APPROVAL.value}' "
            f"AND t.{quote('actor_id')} IS NOT NULL)"
        ),
        _CONFIG: (
            f"(SELECT {_json_object(config, 'c', quote)} FROM {quote(config.db_table)} c "
            f"ORDER BY c.{quote(primary.column)} LIMIT 1)"
        ),
        _ASSESSMENT: (
            f"(SELECT a.{quote(assessments.pk.column)} FROM {quote(assessments.db_table)} a "
            f"WHERE a.{quote(assessment.field.column)} = {target}.{quote('subject_id')} "
            f"ORDER BY a.{quote('created_at')} DESC, a.{quote(assessments.pk.column)} DESC LIMIT 1)"
        ),
        # In the shares' own order (``Meta.ordering``: ``shared_at``), as their prefetch read them.
        _SHARES: (
            f"(SELECT jsonb_agg(jsonb_build_array({_json_object(shares, 's', quote)}, "
            f"{_json_object(agencies, 'g', quote)}) ORDER BY s.{quote('shared_at')}, s.{quote('id')}) "
            f"FROM {quote(shares.db_table)} s INNER JOIN {quote(agencies.db_table)} g "
            f"ON g.{quote('id')} = s.{quote(shares.get_field('agency').column)} "
            f"WHERE s.{quote(shares.get_field('target').column)} = {target}.{quote('id')})"
        ),
    }


_move_sql: dict[str, str] | None = None


def move_context() -> dict[str, Any]:
    """Annotations for the one query that loads a target for a move (the API's ``transitions``), on
    PostgreSQL; none elsewhere (each is then read by itself, as before).

    What the move and its checks would each read in a statement of their own, before its transaction:
    the target's shares and their agencies (the agency check, the audience, the answer), the proposers
    four eyes keeps off approval (``routing.proposers_of``), the centre's configuration
    (``CentreConfiguration.current``) and the subject's latest assessment (the watchlist hits behind
    it). Read in the same statement a moment earlier, they are what those statements would have read:
    every change of a target's shares and every move to awaiting approval raises the version this move
    is made against, and the configuration and assessments are read outside the move's transaction
    either way. The SQL is built once per process from the models' metadata (no compilation per
    request); ``take_move_context`` hands the values to the functions that would have read them."""
    global _move_sql
    if connection.vendor != "postgresql":
        return {}
    if _move_sql is None:
        _move_sql = _move_context_sql()
    fields = {
        _PROPOSERS: JSONField(),
        _CONFIG: JSONField(),
        _ASSESSMENT: IntegerField(),
        _SHARES: JSONField(),
    }
    # Names and one state value from the models, no input of anyone's: nothing to inject.
    return {name: RawSQL(_move_sql[name], (), output_field=field) for name, field in fields.items()}  # noqa: S611


def take_move_context(target: Target) -> Target:
    """Hand what ``move_context`` read with ``target`` to the functions that would read it again: the
    shares (where their prefetch puts them), the proposers (for this version of the target), the
    configuration, the subject's latest assessment."""
    from apps.targeting.routing import note_config, note_proposers
    from apps.watchlists.rulings import note_latest_assessment

    values = target.__dict__
    if _CONFIG not in values:
        return target
    db = target._state.db or "default"
    submitted = values.pop(_PROPOSERS) or []
    note_proposers(target, {*submitted, *([target.nominated_by_id] if target.nominated_by_id else [])})
    if (row := values.pop(_CONFIG)) is not None:  # none yet: ``current`` makes it, as before
        note_config(target, _from_json(CentreConfiguration, row, db))
    note_latest_assessment(target.subject, values.pop(_ASSESSMENT))
    shares = []
    for share_row, agency_row in values.pop(_SHARES) or []:
        share = _from_json(TargetShare, share_row, db)
        TargetShare._meta.get_field("agency").set_cached_value(share, _from_json(Agency, agency_row, db))
        TargetShare._meta.get_field("target").set_cached_value(share, target)
        shares.append(share)
    # What ``prefetch_related("shares")`` leaves: the relation's queryset, its rows already read.
    manager: Any = target.shares
    cached = manager._apply_rel_filters(TargetShare.objects.select_related("agency"))
    cached._result_cache, cached._prefetch_done = shares, True
    target.__dict__.setdefault("_prefetched_objects_cache", {})["shares"] = cached
    return target


class TargetAccess:
    """What one viewer may do on one target, for the buttons of one page or answer.

    Each button asks ``operations.check`` itself (through ``allows``), the function every service calls:
    the target is visible, the role allows the operation, the agency and the routing team may act. Only
    what a page would otherwise ask once per button is read once here and handed to it: whether the target
    is visible and the centre's configuration. The services still check every change.
    """

    def __init__(
        self,
        user: Any,
        target: Target,
        *,
        config: CentreConfiguration | None = None,
        visible: bool | None = None,
    ) -> None:
        """``visible=True`` when the caller loaded ``target`` through ``visible_to(user)`` in this request."""
        self.user = user
        self.target = target
        self.membership = membership_of(user)
        self._config = config
        if visible is not None:
            self.__dict__["visible"] = visible and self.membership is not None

    @cached_property
    def visible(self) -> bool:
        if self.membership is None:
            return False
        return Target.objects.visible_to(self.user).filter(pk=self.target.pk).exists()

    @property
    def config(self) -> CentreConfiguration:
        if self._config is None:
            self._config = CentreConfiguration.current()
        return self._config

    def may(self, operation: str) -> bool:
        # The role alone first: a button the role never has costs no query for visibility.
        if not can(self.user, operation):
            return False
        return allows(self.user, operation, self.target, visible=self.visible, config=self.config)

    def moves(self) -> list[transitions.Move]:
        """The moves this viewer may make on the target now, one per button, as the table says.

        The row for the target's state decides the right asked for: a random-control target has no
        reject or withdraw row, and its "Mark missed" while undecided asks for ``target.reject`` and a
        reason (the services refuse anything else the same way).
        """
        state, found = self.target.state, []
        for action in transitions.buttons():
            move = transitions.move_for(
                action, state, random_control=self.target.random_control, system=False
            )
            if move is not None and self.may(move.operation):
                found.append(move)
        return found

    def actions(self) -> list[str]:
        """The names of the transitions this viewer may make on the target now."""
        return [move.action for move in self.moves()]


def allowed_actions(user: Any, target: Target, *, access: TargetAccess | None = None) -> list[str]:
    """The transitions this user may make on this target now (for buttons; the services still check)."""
    return (access or TargetAccess(user, target)).actions()


def may(user: Any, operation: str, target: Target) -> bool:
    return TargetAccess(user, target).may(operation)


class CountOf(Subquery):
    """``(SELECT COUNT(*) FROM (<queryset>) AS counted)``: how many rows ``queryset`` has, as a value of
    another statement (read once: nothing in it refers to the outer row)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()

    def __init__(self, queryset: Any) -> None:
        super().__init__(queryset.order_by().values("pk"))


def urgent_page(
    queryset: Any, number: Any, *, now: datetime, per_page: int, fields: tuple[str, ...] = ()
) -> Page:
    """One page of ``queryset`` (scoped and filtered already), most urgent first.

    Ranked in two steps so that the ranking over every open target of a queue reads only the narrow
    ``target_open_queue`` index: first the page's ids (and the count) from the index, then the page's
    rows with their port, owner and claimant. The rows are loaded through ``queryset`` again, so a
    target that left the scope between the two steps is not shown. ``fields``: only these columns of
    the rows (``QuerySet.only``), when the caller knows what it will read of them.
    """
    ranked = queryset.with_urgency(now).order_by("-urgency", "arrival_at", "id")
    paginator = Paginator(ranked.values_list("pk", "urgency"), per_page)
    # The page's ids, their urgency and the queue's length in one statement (one round trip, one
    # snapshot), the length as a count of its own inside it. Not a window count over the ranked rows:
    # that keeps every open target of the queue in a tuplestore before the top-50 sort, 9.3 ms against
    # 7.9 for a port's 15,800 open targets (docs/performance.md, twelfth pass).
    raw = str(number or "1")
    found = []
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 1_000_000:
        first = (int(raw) - 1) * per_page
        found = list(
            ranked.annotate(total=CountOf(queryset)).values_list("pk", "urgency", "total")[
                first : first + per_page
            ]
        )
    if found:
        paginator.count = found[0][2]  # the paginator's cached count, so it asks the database no more
        page = paginator.page(int(raw))
        urgency = {pk: rank for pk, rank, _ in found}
    else:  # an empty queue, a page past its end or not a number: the paginator's own answer
        page = paginator.get_page(number)
        urgency = dict(page.object_list)
    # The rows carry the urgency they were ranked by (the same statement's), not a second ``Urgency``.
    rows = queryset.select_related("port", "owner_agency", "claimed_by")
    rows = (rows.only(*fields) if fields else rows).in_bulk(list(urgency))
    page.object_list = [rows[pk] for pk in urgency if pk in rows]
    for target in page.object_list:
        target.urgency = urgency[target.pk]  # the annotation's name, as ``with_urgency`` sets it
    return page


@dataclass
class QueueLine:
    key: str
    label: str
    count: int
    oldest: datetime | None
    breaches: int
    param: str


def queue_summary(user: Any, now: datetime | None = None) -> dict[str, list[QueueLine]]:
    """Open targets the user may see, counted by port, risk area and owner agency (with oldest, breaches)."""
    now = now or timezone.now()
    base = Target.objects.visible_to(user).filter(state__in=OPEN_STATES)
    breach = Count("pk", filter=breach_q(now))
    ports = dict(Port.objects.values_list("pk", "name"))
    locodes = dict(Port.objects.values_list("pk", "locode"))
    agencies = dict(Agency.objects.values_list("pk", "name"))
    areas = dict(RiskArea.choices)
    out: dict[str, list[QueueLine]] = {}
    for dimension, field, labels, keys in (
        ("port", "port_id", ports, locodes),
        ("risk_area", "risk_area", areas, None),
        ("agency", "owner_agency_id", agencies, None),
    ):
        rows = (
            base.order_by()
            .values(field)
            .annotate(count=Count("pk"), oldest=Min("created_at"), breaches=breach)
        )
        lines = [
            QueueLine(
                key=str(row[field] or ""),
                label=labels.get(row[field], "No port") if row[field] is not None else "No port",
                count=row["count"],
                oldest=row["oldest"],
                breaches=row["breaches"],
                param=(keys or {}).get(row[field], str(row[field] or "")),
            )
            for row in rows
        ]
        out[dimension] = sorted(lines, key=lambda line: (-line.breaches, -line.count, line.label))
    return out


def filter_targets(queryset: Any, params: Any, user: Any) -> Any:
    """Apply the common filters (``port`` LOCODE, ``risk_area``, ``agency`` id, ``state``, ``operation``).

    ``operation`` filters only by an operation the user's agency takes part in: counting the targets of
    another agency's operation would tell what the operation itself (404) does not.
    """
    if params.get("port"):
        queryset = queryset.filter(port__locode=params["port"])
    if params.get("risk_area"):
        queryset = queryset.filter(risk_area=params["risk_area"])
    if (agency := id_or_none(params.get("agency"))) is not None:
        queryset = queryset.filter(owner_agency_id=agency)
    if params.get("state") in S.values:
        queryset = queryset.filter(state=params["state"])
    if params.get("work"):  # a worklist of the home page: "my claims", "awaiting my approval"...
        from apps.targeting.worklists import worklist_q

        if (work := worklist_q(params["work"], user)) is not None:
            queryset = queryset.filter(work)
    if params.get("operation") not in (None, ""):
        from apps.targeting.models import JointOperation

        operation = id_or_none(params.get("operation"))
        if operation is None or not JointOperation.objects.visible_to(user).filter(pk=operation).exists():
            return queryset.none()
        queryset = queryset.filter(operation_id=operation)
    return queryset
