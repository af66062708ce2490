from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from branch_ops.backup import BackupError, restore


class Command(BaseCommand):
    help = ("Restore a pg_dump archive into a NEW database, check it (verify_ledger, verify_audit_chain), and only "
            "then swap it in for the app database (kept as <name>_pre_restore_<timestamp>). A corrupt file or a "
            "failed check leaves the app database untouched.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--database", default=None, help="restore as this database (default: the app database)")
        parser.add_argument("--drop-old", action="store_true", help="drop the previous database after the swap")

    def handle(self, *args, **options):
        try:
            restore(file=options["file"], database=options["database"], drop_old=options["drop_old"],
                    log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
