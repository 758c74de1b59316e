"""Who is asking, read once per request: the user, the membership, its agency and group, and its ports.

Every signed-in request needs all of them (scoping reads the membership, its agency's group and the
ports), which Django and ``membership_of`` read in four queries: the user, the membership with its
agency, then the ports. Here they are one query, written once per process from the models' own
metadata and run without the ORM's compilation; with :mod:`apps.accounts.sessions` that query is the
session's own read, so a signed-in request reads the database once before its view.

Nothing is kept between requests: each request reads the rows as they are, so a deactivated user, a
revoked membership, a changed port list or a changed password (the session's auth hash) takes effect
on the next request, whatever changed them (a page, the admin, a ``QuerySet.update()``, SQL by hand).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import connection, models
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from apps.agencies.models import Agency, Membership, Port

__all__ = ["PrincipalAuthenticationMiddleware", "get_user", "load_principal", "principal_sql"]

#: What the principal query reads (the session's columns are added by ``apps.accounts.sessions``).
_ROWS: tuple[tuple[type[models.Model], str], ...] = (
    (User, "u"),
    (Membership, "m"),
    (Agency, "a"),
    (Group, "g"),
)


def _fields(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def qn(name: Any) -> str:
    """A quoted table or column name (the models' metadata types them as optional)."""
    return connection.ops.quote_name(str(name))


def principal_sql(vendor: str) -> tuple[str, str]:
    """The columns and the joins of the principal query, as (select list, from clause after ``u``).

    The user's row is ``u``; the caller says how ``u`` is found (``u.id = %s`` or a join). The ports come
    as one JSON array of rows in a subquery (PostgreSQL ``json_agg``, SQLite ``json_group_array``)."""
    columns = [f"{alias}.{qn(f.column)}" for model, alias in _ROWS for f in _fields(model)]
    port_cols = ", ".join(f"p.{qn(f.column)}" for f in _fields(Port))
    through = Membership.ports.through._meta
    to_port = qn(through.get_field("port").column)
    to_membership = qn(through.get_field("membership").column)
    aggregate = (
        f"COALESCE(json_agg(json_build_array({port_cols})), '[]')"
        if vendor == "postgresql"
        else f"json_group_array(json_array({port_cols}))"
    )
    ports = (
        f"(SELECT {aggregate} FROM {qn(Port._meta.db_table)} p INNER JOIN {qn(through.db_table)} mp "
        f"ON mp.{to_port} = p.{qn(Port._meta.pk.column)} WHERE mp.{to_membership} = m.{qn(Membership._meta.pk.column)})"
    )
    select = ", ".join([*columns, ports])
    joins = (
        f"LEFT OUTER JOIN {qn(Membership._meta.db_table)} m ON m.{qn(Membership._meta.get_field('user').column)} = u.{qn(User._meta.pk.column)} "
        f"LEFT OUTER JOIN {qn(Agency._meta.db_table)} a ON a.{qn(Agency._meta.pk.column)} = m.{qn(Membership._meta.get_field('agency').column)} "
        f"LEFT OUTER JOIN {qn(Group._meta.db_table)} g ON g.{qn(Group._meta.pk.column)} = a.{qn(Agency._meta.get_field('group').column)}"
    )
    return select, joins


Converter = Callable[[Any, Any, Any], Any]
_converters: dict[str, list[tuple[int, Any, list[Converter]]]] = {}


def _column_converters() -> list[tuple[int, Any, list[Converter]]]:
    """Per column that needs it, the database's and the field's converters, as the ORM's compiler
    applies them (SQLite's dates and booleans; none on PostgreSQL). Computed once per process."""
    found = _converters.get(connection.vendor)
    if found is None:
        found, i = [], 0
        for model, _alias in _ROWS:
            for field in _fields(model):
                col = field.get_col(model._meta.db_table)
                chain = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
                if chain:
                    found.append((i, col, chain))
                i += 1
        _converters[connection.vendor] = found
    return found


def build_principal(values: Sequence[Any]) -> User | None:
    """The user (with ``membership_of`` already answered) from one row of the principal query."""
    row = list(values)
    for i, col, chain in _column_converters():
        for convert in chain:
            row[i] = convert(row[i], col, connection)
    offset, parts = 0, []
    for model, _alias in _ROWS:
        names = [f.attname for f in _fields(model)]
        parts.append((model, names, row[offset : offset + len(names)]))
        offset += len(names)
    (_, user_names, user_values), (_, m_names, m_values), (_, a_names, a_values) = parts[:3]
    g_names, g_values = parts[3][1:]
    if user_values[0] is None:
        return None
    user = User.from_db(connection.alias, user_names, user_values)
    membership = None
    if m_values[0] is not None:
        membership = Membership.from_db(connection.alias, m_names, m_values)
        agency = Agency.from_db(connection.alias, a_names, a_values)
        agency.group = Group.from_db(connection.alias, g_names, g_values)
        membership.agency = agency
        membership.user = user
        ports_json = row[offset]
        port_rows = json.loads(ports_json) if isinstance(ports_json, str) else (ports_json or [])
        port_names = [f.attname for f in _fields(Port)]
        ports = [Port.from_db(connection.alias, port_names, r) for r in port_rows if r and r[0] is not None]
        ports.sort(key=lambda p: (p.name, p.pk))  # Port's own ordering, as ``membership.ports.all()`` has it
        # What ``prefetch_related("ports")`` leaves: ``membership.ports.all()`` reads no more.
        queryset: Any = membership.ports.all()
        queryset._result_cache = ports
        queryset._prefetch_done = True
        membership._prefetched_objects_cache = {"ports": queryset}  # type: ignore[attr-defined]
    # ``apps.agencies.operations.membership_of`` answers from here for the rest of the request; it
    # still returns None for an inactive user, as before.
    user._ratc_membership = membership  # type: ignore[attr-defined]
    return user


_by_id_sql: dict[str, str] = {}


def load_principal(user_id: Any) -> User | None:
    """The user of ``user_id`` with the membership, its agency and group and its ports, in one query."""
    sql = _by_id_sql.get(connection.vendor)
    if sql is None:
        select, joins = principal_sql(connection.vendor)
        sql = f"SELECT {select} FROM {qn(User._meta.db_table)} u {joins} WHERE u.{qn(User._meta.pk.column)} = %s"
        _by_id_sql[connection.vendor] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        values = cursor.fetchone()
    return build_principal(values) if values is not None else None


#: The backends whose ``get_user`` is a read of the user by primary key (ModelBackend's also refuses an
#: inactive user): for them the principal read stands in. Any other backend is asked itself.
def _reads_by_pk(backend: Any) -> str | None:
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    get_user_of = type(backend).get_user
    if get_user_of is ModelBackend.get_user:
        return "model"
    if get_user_of is OIDCAuthenticationBackend.get_user:
        return "oidc"
    return None


def _session_hash_holds(request: Any, user: Any) -> bool:
    """Whether the session still carries the user's password-derived hash (a changed password ends
    every other session); a hash made under a retired ``SECRET_KEY_FALLBACKS`` key is renewed."""
    stored = request.session.get(auth.HASH_SESSION_KEY)
    if not stored:
        return False
    current = user.get_session_auth_hash()
    if constant_time_compare(stored, current):
        return True
    if not any(constant_time_compare(stored, old) for old in user.get_session_auth_fallback_hash()):
        return False
    request.session.cycle_key()
    request.session[auth.HASH_SESSION_KEY] = current
    return True


def _user_of_session(request: Any) -> Any:
    """The session's user as its backend would find it, or None; the principal read stands in for the
    backends that read the user by primary key."""
    try:
        user_id = auth._get_user_session_key(request)  # type: ignore[attr-defined]
        backend_path = request.session[auth.BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None  # a backend removed from the settings signs its sessions out
    backend: Any = auth.load_backend(backend_path)
    kind = _reads_by_pk(backend)
    if kind is None:
        return backend.get_user(user_id)
    preloaded = getattr(request.session, "principal_for", None)
    user = (preloaded(user_id) if preloaded is not None else None) or load_principal(user_id)
    if kind == "model" and user is not None and not backend.user_can_authenticate(user):
        return None  # ModelBackend's own rule: an inactive user is nobody
    return user


def get_user(request: Any) -> Any:
    """What ``django.contrib.auth.get_user`` answers (the same rules: backend still configured, user
    found, session hash still valid), with the user read as the principal in one query."""
    user = _user_of_session(request)
    if user is not None and hasattr(user, "get_session_auth_hash") and not _session_hash_holds(request, user):
        request.session.flush()
        user = None
    return user or AnonymousUser()


async def _aget_user(request: Any) -> Any:
    if not hasattr(request, "_acached_user"):
        request._acached_user = await sync_to_async(get_user)(request)
    return request._acached_user


class PrincipalAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's authentication middleware, with the user read by :func:`get_user` (one query)."""

    def process_request(self, request: Any) -> None:
        super().process_request(request)  # its checks (sessions installed), then our lazy user
        request.user = SimpleLazyObject(lambda: get_user(request))
        request.auser = partial(_aget_user, request)
