from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BranchOpsConfig(AppConfig):
    name = "branch_ops"
    verbose_name = _("Branch Ops platform")
