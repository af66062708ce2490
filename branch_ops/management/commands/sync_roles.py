from django.core.management.base import BaseCommand

from branch_ops.roles import sync_role_groups


class Command(BaseCommand):
    help = "Create or refresh one Django group per role from the role table in branch_ops/roles.py."

    def handle(self, *args, **options):
        sync_role_groups()
        self.stdout.write("Role groups are in sync with branch_ops/roles.py.")
