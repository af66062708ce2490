"""A transaction is reversed at most once: a partial unique key that holds only reversals.

``reverses`` was a one-to-one field, so its unique index took a key for every ledger
transaction, a NULL for each ordinary posting: one of the B-tree inserts (and WAL records) of
every posting, for a rule only reversals can break. The partial unique index
``ledger_reversed_at_most_once`` (``WHERE reverses_id IS NOT NULL``) holds the same rule, serves
the lookups by ``reverses_id`` (a reversal's "already reversed?" and the foreign key's checks),
and an ordinary posting writes nothing to it. ``reversed_by`` becomes a reverse foreign key
(nothing read it).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0014_balance_check_single_currency_path'),
        ('branch_ops', '0011_idempotency_user_index_is_the_unique_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='ledgertransaction',
            name='reverses',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='accounts.ledgertransaction'),
        ),
        migrations.AddConstraint(
            model_name='ledgertransaction',
            constraint=models.UniqueConstraint(condition=models.Q(('reverses__isnull', False)), fields=('reverses',), name='ledger_reversed_at_most_once'),
        ),
    ]
