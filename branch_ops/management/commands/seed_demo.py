from django.core.management.base import BaseCommand

from branch_ops.demo import DEMO_TOTP_SECRET, demo_logins, seed_demo


class Command(BaseCommand):
    help = "Load the demo branches, staff, customers and accounts (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        created = seed_demo()
        self.stdout.write("Demo data loaded." if created else "Demo data already present (nothing added).")
        self.stdout.write("\nDemo logins (http://127.0.0.1:8000/):")
        self.stdout.write(f"  {'user':<14} {'password':<22} {'role':<12} branch")
        for user, password, role, branch in demo_logins():
            self.stdout.write(f"  {user:<14} {password:<22} {role:<12} {branch}")
        self.stdout.write("\nSupervisors and admin also enter a sign-in code (DEMO ONLY: a published TOTP secret, "
                          f"{DEMO_TOTP_SECRET}):")
        self.stdout.write("  .venv/bin/python manage.py demo_totp super.dxb")
