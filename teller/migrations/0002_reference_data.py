"""Operation reference numbers, and the notes and coins of the currencies most branches hold."""

from django.db import migrations


def load(apps, schema_editor):
    from teller.reference_data import denominations_load

    denominations_load(apps.get_model("teller", "Denomination"), apps.get_model("branch_ops", "Currency"))


class Migration(migrations.Migration):
    dependencies = [("teller", "0001_initial"), ("branch_ops", "0003_currencies")]

    operations = [
        migrations.RunSQL("CREATE SEQUENCE teller_operation_serial", "DROP SEQUENCE teller_operation_serial"),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
