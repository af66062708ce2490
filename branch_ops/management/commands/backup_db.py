from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from branch_ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "pg_dump the app database (custom format) to backups/<UTC timestamp>.dump (or --output)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=None)

    def handle(self, *args, **options):
        try:
            path = backup(output=options["output"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"backup written: {path} ({path.stat().st_size} bytes)")
