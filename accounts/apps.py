from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Customers and accounts")

    def ready(self):
        from django.db.models.signals import post_migrate

        from accounts.reference_data import ledger_kinds_after_migrate
        from accounts.services import register_approval_kinds

        register_approval_kinds()
        post_migrate.connect(ledger_kinds_after_migrate, sender=self, dispatch_uid="accounts.ledger_kinds")
