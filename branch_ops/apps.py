from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BranchOpsConfig(AppConfig):
    name = "branch_ops"
    verbose_name = _("Branch Ops platform")

    def ready(self):
        from branch_ops import schema  # noqa: F401  (registers the OpenAPI auth extensions)
