"""The idempotency record's user has no index of its own: the unique (user, key) index leads with
the user, so it serves every lookup by user (and the foreign key's checks on deleting a user).
One index insert less for every keyed request, every transfer among them.

Only the index is dropped: Django's own ALTER would also drop and re-add (and so re-validate,
under lock) the foreign key, which does not change.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('branch_ops', '0010_audit_digest_stable_so_it_is_inlined'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(
                "DROP INDEX IF EXISTS branch_ops_idempotencyrecord_user_id_717dd62e;",
                "CREATE INDEX IF NOT EXISTS branch_ops_idempotencyrecord_user_id_717dd62e "
                "ON branch_ops_idempotencyrecord (user_id);",
            )],
            state_operations=[migrations.AlterField(
                model_name='idempotencyrecord',
                name='user',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+',
                                        to=settings.AUTH_USER_MODEL),
            )],
        ),
    ]
