from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomerServiceConfig(AppConfig):
    name = "customer_service"
    verbose_name = _("Service desk")

    def ready(self):
        from customer_service.events import register_event_schemas
        from customer_service.services import register_approval_kinds

        register_approval_kinds()
        register_event_schemas()
