from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TellerConfig(AppConfig):
    name = "teller"
    verbose_name = _("Cash window")

    def ready(self):
        from teller.services import cash, reversals

        cash.register_approval_kinds()
        reversals.register_approval_kinds()
