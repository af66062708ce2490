"""A row to insert, built without a model instance.

``ledger_post(with_rows=...)`` inserts a posting's audit and outbox rows in its own
statement. Building a Django model instance for each of them (defaults, descriptors,
``pre_save``) cost more Python on the posting path than the statement's own parameters, so
their builders also give the row as plain column values: :func:`branch_ops.audit.audit_event_row`
and :func:`branch_ops.outbox.event_row`.
"""

from __future__ import annotations

from dataclasses import dataclass

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
