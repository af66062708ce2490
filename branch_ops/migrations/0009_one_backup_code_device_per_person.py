"""At most one backup-code device per person, kept by PostgreSQL.

``backup_codes_generate`` finds a person's backup-code device by its name and creates one the
first time. Two first generations at the same moment could each create one; the sign-in step
reads only the first, so the codes shown by the other would never work. A partial unique index
on django-otp's table refuses the second device (the service also locks the person's row, so
two generations take turns instead of failing).
"""

from django.db import migrations

BACKUP_DEVICE_NAME = "Backup codes"  # branch_ops.twofactor.BACKUP_DEVICE_NAME when this was written


class Migration(migrations.Migration):
    dependencies = [("branch_ops", "0008_audit_chain_lanes"), ("otp_static", "0003_add_timestamps")]

    operations = [
        migrations.RunSQL(
            "CREATE UNIQUE INDEX branch_ops_one_backup_device_per_user ON otp_static_staticdevice (user_id) "
            f"WHERE name = '{BACKUP_DEVICE_NAME}'",
            "DROP INDEX IF EXISTS branch_ops_one_backup_device_per_user",
        ),
    ]
