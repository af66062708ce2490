from django.core.management.base import BaseCommand, CommandError

from branch_ops.audit import audit_chain_verify
from branch_ops.models import Branch


class Command(BaseCommand):
    help = "Recompute every audit hash chain (or one branch's) and report any break. Exit 1 on a break."

    def add_arguments(self, parser):
        parser.add_argument("--branch", help="branch code (default: every chain)")

    def handle(self, *args, **options):
        branch = None
        if options["branch"]:
            branch = Branch.objects.filter(code=options["branch"]).first()
            if branch is None:
                raise CommandError(f"no branch {options['branch']!r}")
        report = audit_chain_verify(branch=branch)
        for b in report.breaks:
            self.stderr.write(f"chain {b.chain_key} event #{b.seq}: {b.problem}")
        if not report.ok:
            raise CommandError(f"audit chain BROKEN: {len(report.breaks)} problem(s) in {report.events_checked} events")
        self.stdout.write(f"audit chain intact: {report.events_checked} events in {report.chains_checked} chain(s)")
