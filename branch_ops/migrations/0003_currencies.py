"""Reference data: the ISO 4217 currencies with their minor units. The ones a branch
network in the Gulf and Europe usually handles start active; the admin can switch others on."""

from babel.numbers import get_currency_name
from django.db import migrations

ACTIVE = {"AED", "BHD", "CHF", "CNY", "EUR", "GBP", "JOD", "JPY", "KWD", "OMR", "QAR", "SAR", "USD"}


def load(apps, schema_editor):
    from branch_ops.money import ISO_4217_MINOR_UNITS

    Currency = apps.get_model("branch_ops", "Currency")
    for code, digits in sorted(ISO_4217_MINOR_UNITS.items()):
        Currency.objects.update_or_create(
            code=code,
            defaults={
                "name": get_currency_name(code, locale="en"),
                "minor_units": digits,
                "active": code in ACTIVE,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("branch_ops", "0002_triggers")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
