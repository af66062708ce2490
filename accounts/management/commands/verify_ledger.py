from django.core.management.base import BaseCommand, CommandError

from accounts.ledger import ledger_verify


class Command(BaseCommand):
    help = ("Recompute every ledger balance, version, running balance and pending hold total from the entries "
            "and report any difference. Exit 1 if anything differs.")

    def handle(self, *args, **options):
        report = ledger_verify()
        for problem in report.problems:
            self.stderr.write(problem)
        if not report.ok:
            raise CommandError(f"ledger INCONSISTENT: {len(report.problems)} problem(s)")
        self.stdout.write(f"ledger consistent: {report.accounts_checked} accounts, {report.entries_checked} entries")
