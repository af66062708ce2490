"""Reference data: complaint regimes and categories (the admin edits them) and numbers."""

from django.db import migrations


def load(apps, schema_editor):
    from complaints.reference_data import complaints_reference_load

    complaints_reference_load(apps.get_model("complaints", "Regime"), apps.get_model("complaints", "Category"))


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [
        migrations.RunSQL("CREATE SEQUENCE complaints_serial START 1001", "DROP SEQUENCE complaints_serial"),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
