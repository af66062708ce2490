"""DEMO ONLY: print the current sign-in code of a demo user whose device holds the published
demo secret (``branch_ops.demo.DEMO_TOTP_SECRET``). It refuses any other device."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from branch_ops.demo import DEMO_TOTP_SECRET
from branch_ops.twofactor import base32_to_hex, totp_code, totp_device_confirmed


class Command(BaseCommand):
    help = "DEMO ONLY: print the current TOTP code of a demo supervisor or the demo admin (e.g. super.dxb)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        device = totp_device_confirmed(user) if user is not None else None
        if device is None:
            raise CommandError(f"{username} has no two-factor device (run manage.py seed_demo first).")
        if device.key != base32_to_hex(DEMO_TOTP_SECRET):
            raise CommandError(f"{username} is not a demo login: its device does not hold the demo secret.")
        self.stdout.write(totp_code(device.key))
