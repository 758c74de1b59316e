"""Sessions in the database (Django's table and model), read together with the principal in one query.

Why not from the cache: a session ended in the database (an operator's ``DELETE``, an ``UPDATE`` of its
expiry, ``tests/core/test_security.py::test_expired_session_is_sent_to_sign_in``) sends no signal, so a
cached copy would stay valid until its own expiry. The session row is therefore read on every request,
as Django's ``db`` engine does, with the same condition (``expire_date > now``): every way of ending a
session (sign-out, a password change, the expiry, a deleted row) takes effect on the next request.

What is saved: the user, membership, agency, group and ports (``apps.accounts.principal``) come in the
same query as the session row. The session row does not name its user outside its signed data, so the
query is made with the user this process last decoded from that session key (a hint, kept in memory);
the principal is used only when the decoded session names that same user, else it is read on its own.
A session key is bound to one user for its life (Django gives a new key at sign-in and sign-out).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.utils import timezone

from apps.accounts.principal import build_principal, principal_sql, qn

log = logging.getLogger(__name__)

#: Session key -> the user id its data named when this process last decoded it (most recent last).
_HINTS: OrderedDict[str, str] = OrderedDict()
_HINTS_LOCK = threading.Lock()
HINTS_KEPT = 20_000

_joined_sql: dict[str, str] = {}


def _remember(session_key: str, user_id: str) -> None:
    with _HINTS_LOCK:
        _HINTS[session_key] = user_id
        _HINTS.move_to_end(session_key)
        while len(_HINTS) > HINTS_KEPT:
            _HINTS.popitem(last=False)


def _hint(session_key: str) -> str | None:
    with _HINTS_LOCK:
        return _HINTS.get(session_key)


def _sql() -> str:
    sql = _joined_sql.get(connection.vendor)
    if sql is None:
        select, joins = principal_sql(connection.vendor)
        sql = (
            f"SELECT s.{qn('session_data')}, {select} FROM {qn('django_session')} s "
            f"LEFT OUTER JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = %s {joins} "
            f"WHERE s.{qn('session_key')} = %s AND s.{qn('expire_date')} > %s"
        )
        _joined_sql[connection.vendor] = sql
    return sql


class SessionStore(DbSessionStore):
    """Django's database session store; its read also brings the principal when the user is known."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._principal: tuple[str, Any] | None = None

    def _get_session_from_db(self) -> Any:
        hinted = _hint(self.session_key) if self.session_key else None
        if hinted is None:
            return super()._get_session_from_db()  # type: ignore[misc]
        try:
            # Same condition as Django's read: the key, and not expired (Django's ``expire_date__gt``).
            with connection.cursor() as cursor:
                cursor.execute(_sql(), [hinted, self.session_key, timezone.now()])
                row = cursor.fetchone()
        except SuspiciousOperation as e:  # as Django's read: logged, and no session
            logging.getLogger(f"django.security.{e.__class__.__name__}").warning(str(e))
            row = None
        if row is None:
            self._session_key = None
            return None
        self._principal = (hinted, build_principal(row[1:]))
        return self.model(session_key=str(self.session_key), session_data=row[0])

    def load(self) -> dict[str, Any]:
        data = super().load()
        user_id = data.get(SESSION_KEY)
        if user_id is not None and self.session_key:
            _remember(self.session_key, str(user_id))
        return data

    def principal_for(self, user_id: Any) -> Any:
        """The user read with the session row, when it is ``user_id`` (the session's own user), else None."""
        if self._principal is None or self._principal[0] != str(user_id):
            return None
        return self._principal[1]

    def cycle_key(self) -> None:
        self._principal = None
        super().cycle_key()

    def flush(self) -> None:
        self._principal = None
        super().flush()
