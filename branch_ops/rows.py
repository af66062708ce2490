"""A row to insert, built without a model instance.

``ledger_post(with_rows=...)`` inserts a posting's audit and outbox rows in its own
statement. Building a Django model instance for each of them (defaults, descriptors,
``pre_save``) cost more Python on the posting path than the statement's own parameters, so
their builders also give the row as plain column values: :func:`branch_ops.audit.audit_event_row`
and :func:`branch_ops.outbox.event_row`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model


@dataclass(frozen=True, slots=True)
class NewRow:
    """``values``: the row's column values by field ``attname`` (``actor_id``, not ``actor``),
    each already of the column's Python type; a field left out takes its database default.
    A JSON field's value is the Python object to store."""

    model: type[Model]
    values: dict

    def instance(self) -> Model:
        """The same row as an unsaved model instance."""
        return self.model(**self.values)


_NOT_PLAIN = object()


def _plain_copy(value):
    """A copy of ``value`` if it is plain JSON already (exactly str, int, bool or None, in
    lists and in dicts with str keys), else ``_NOT_PLAIN``."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                return _NOT_PLAIN
            item = _plain_copy(item)
            if item is _NOT_PLAIN:
                return _NOT_PLAIN
            out[key] = item
        return out
    if kind is list:
        out = []
        for item in value:
            item = _plain_copy(item)
            if item is _NOT_PLAIN:
                return _NOT_PLAIN
            out.append(item)
        return out
    return _NOT_PLAIN


def json_ready(value):
    """``value`` as it comes back from a JSON column: dates, decimals, UUIDs, enums and tuples
    become what ``DjangoJSONEncoder`` makes of them. A value that is plain JSON already is
    only copied, without the round trip through a JSON string (a posting's audit and outbox
    rows take three of them)."""
    copy = _plain_copy(value)
    if copy is not _NOT_PLAIN:
        return copy
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
