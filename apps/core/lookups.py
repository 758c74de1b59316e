"""``field__any=values``: membership in a long list of values as ONE parameter.

``field__in=values`` writes one placeholder per value. For the lists a bulk intake asks about (a batch's
2,000 message keys, its traders' block keys), psycopg then spends longer turning the query into text
than PostgreSQL spends answering it, and the server parses a different statement for every length. On
PostgreSQL ``field = ANY(%s)`` sends the list as one array; elsewhere (SQLite, the embedded mode) the
lookup is ``IN`` as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models.lookups import In, Lookup


class AnyOf(Lookup):
    lookup_name = "any"

    def get_prep_lookup(self) -> list[Any]:
        # One prepared value per item, as ``in`` does (a model instance becomes its key, "12" an int).
        prepare = getattr(self.lhs.output_field, "get_prep_value", None)
        values = list(dict.fromkeys(self.rhs))
        return [prepare(v) for v in values] if prepare else values

    # The stubs allow only str and int parameters, in a tuple; the array this sends is one list parameter.
    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Sequence[Any]]:  # type: ignore[override]
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=True) for v in self.rhs]
        if values and all(type(v) is int for v in values):
            # Integers (ids, the commonest) as one array literal: psycopg otherwise adapts each
            # element in Python, which for a batch's thousands of ids cost more than the query.
            literal = "{" + ",".join(map(str, values)) + "}"
            return f"{lhs} = ANY(%s::{field.rel_db_type(connection)}[])", [*lhs_params, literal]
        if values and all(type(v) is str for v in values):
            # Strings (message keys, external ids, a batch's person keys) likewise: psycopg quotes each
            # element of a list in Python; one literal is one string it quotes in C. As ``text[]``, never
            # the column's ``varchar(n)[]``, whose cast would cut a longer value down to a false match.
            return f"{lhs} = ANY(%s::text[])", [*lhs_params, _text_array(values)]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


def _text_array(values: list[str]) -> str:
    """PostgreSQL's array literal of ``values``: each element in double quotes, its ``"`` and ``\\``
    escaped by a backslash (so commas, braces, spaces, quotes and the word NULL stay plain text)."""
    joined = '","'.join(values)
    # The separators hold two quotes each: any more, or a backslash, and some value needs escaping.
    if "\\" not in joined and joined.count('"') == 2 * (len(values) - 1):
        return '{"' + joined + '"}'
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + '","'.join(escaped) + '"}'


models.Field.register_lookup(AnyOf)
# Relations keep lookups of their own (``subject_id__in`` is the foreign key's): the same one, by its key.
models.ForeignObject.register_lookup(AnyOf)
