"""Reference data: the offers the desk starts with (rules as data; the admin edits them)."""

from django.db import migrations

OFFERS = [
    ("savings-plus", "Savings Plus account", "A savings account paying interest on balances over 5,000.",
     {"lacks_product": "savings", "min_balance": 500000}),
    ("debit-card", "Debit card", "Pay in shops and withdraw at ATMs.", {"has_product": "current", "lacks_card": True}),
    ("personal-loan", "Personal loan", "Up to 300,000 over up to 5 years.", {"has_product": "current",
                                                                             "min_balance": 1000000}),
]


def load(apps, schema_editor):
    ProductOffer = apps.get_model("customer_service", "ProductOffer")
    for code, name, pitch, conditions in OFFERS:
        ProductOffer.objects.get_or_create(code=code, defaults={"name": name, "pitch": pitch, "conditions": conditions})


class Migration(migrations.Migration):
    dependencies = [("customer_service", "0003_statements_and_offers")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
