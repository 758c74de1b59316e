"""``manage.py verify_chain``: recompute the hash chains of the access log and report the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from apps.compliance.chain import verify_chain
from apps.compliance.registry import chained_models


class Command(BaseCommand):
    help = "Verify the hash chains of the append-only records; exit 1 at the first broken link."

    def handle(self, *args, **options) -> None:
        broken = False
        for model in chained_models():
            report = verify_chain(model)
            label = model._meta.verbose_name_plural
            if report.ok:
                self.stdout.write(self.style.SUCCESS(f"{label}: {report.rows} rows, chain intact"))
            else:
                broken = True
                self.stderr.write(f"{label}: BROKEN at row #{report.first_broken_seq}: {report.reason}")
        if broken:
            raise CommandError("a hash chain is broken", returncode=1)
