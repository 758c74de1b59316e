"""``manage.py verify_chain [--full]``: check the keyed chains of the append-only records.

By default from the latest checkpoint anchored outside the database (the rows written since); ``--full``
reads every row. Either way the rows are compared with the anchors, so rows removed at the end and a
rewritten chain are found.
"""

from django.core.management.base import BaseCommand, CommandError

from apps.compliance.registry import chained_models
from apps.compliance.verification import verify_chain


class Command(BaseCommand):
    help = "Verify the keyed chains of the append-only records; exit 1 at the first broken link."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="read every row, not only those since the checkpoint"
        )

    def handle(self, *args, **options) -> None:
        broken = False
        for model in chained_models():
            report = verify_chain(model, full=options["full"])
            label = model._meta.verbose_name_plural
            if report.ok:
                scope = "all read" if report.full else f"{report.checked} read since the checkpoint"
                self.stdout.write(self.style.SUCCESS(f"{label}: {report.rows} rows, chain intact ({scope})"))
            else:
                broken = True
                at = f"row #{report.first_broken_seq}" if report.first_broken_seq else "a row"
                self.stderr.write(f"{label}: BROKEN at {at}: {report.reason}")
        if broken:
            raise CommandError("a hash chain is broken", returncode=1)
