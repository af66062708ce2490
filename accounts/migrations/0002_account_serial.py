from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE accounts_account_serial START 1000001",
            "DROP SEQUENCE accounts_account_serial",
        ),
    ]
