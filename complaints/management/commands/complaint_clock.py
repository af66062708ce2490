"""The complaint clock: records each breach at the moment its deadline passed and escalates
complaints near their final deadline. ``make run`` starts it with ``--loop`` beside the web
server; in production run one (or more: they skip each other's locked rows)."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from complaints.services import deadlines_sweep


class Command(BaseCommand):
    help = "Record complaint deadline breaches and escalations (once, or every --interval seconds with --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=float, default=30.0)

    def handle(self, *args, **options):
        while True:
            close_old_connections()
            result = deadlines_sweep()
            if result["breached"] or result["escalated"] or not options["loop"]:
                self.stdout.write(f"complaint clock: {result['breached']} breach(es), "
                                  f"{result['escalated']} escalation(s)")
            if not options["loop"]:
                return
            time.sleep(options["interval"])
