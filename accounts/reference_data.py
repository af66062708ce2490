"""Reference data of the ledger: the kinds of ledger account with their normal side. Loaded
by accounts migration 0012 and again after every ``migrate`` or ``flush`` (a transactional
test's flush empties the table; ``post_migrate`` follows it, as for Django's content types)."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS


def ledger_kinds_load(kind_model, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the kinds of ``LedgerAccount.Kind`` that are missing (never changes existing rows)."""
    from accounts.models import LedgerAccount

    kind_model.objects.using(using).bulk_create(
        [kind_model(code=code, debit_normal=code in LedgerAccount.DEBIT_NORMAL) for code in LedgerAccount.Kind.values],
        ignore_conflicts=True,
    )


def ledger_kinds_after_migrate(sender, *, using, apps=global_apps, **kwargs) -> None:
    """``post_migrate``: load the kinds if the table exists in the migrated state (not while
    migrating back below the migration that creates it); ``flush`` sends no ``apps``."""
    try:
        kind_model = apps.get_model("accounts", "LedgerKind")
    except LookupError:
        return
    ledger_kinds_load(kind_model, using)
