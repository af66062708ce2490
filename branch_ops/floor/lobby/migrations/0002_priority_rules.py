"""Reference data: the priority rules (elderly, disabled, pregnant)."""

from django.db import migrations


def load(apps, schema_editor):
    from branch_ops.floor.lobby.reference_data import priority_rules_load

    priority_rules_load(apps.get_model("lobby", "PriorityRule"))


class Migration(migrations.Migration):
    dependencies = [("lobby", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
