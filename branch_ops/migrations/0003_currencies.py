"""Reference data: the ISO 4217 currencies with their minor units."""

from django.db import migrations


def load(apps, schema_editor):
    from branch_ops.reference_data import currencies_load

    currencies_load(apps.get_model("branch_ops", "Currency"))


class Migration(migrations.Migration):
    dependencies = [("branch_ops", "0002_triggers")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
