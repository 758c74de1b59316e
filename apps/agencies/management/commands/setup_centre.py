"""``manage.py setup_centre centre.yaml [--dry-run]``: create or update a centre from its file."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.agencies.centre import CentreFileError, setup_centre


class Command(BaseCommand):
    help = (
        "Create or update agencies, partner administrations, ports and capacities, data sources, the "
        "operating model, role profiles and local accounts from a centre file (see docs/centre.md)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the centre file, e.g. centre.example.yaml")
        parser.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")

    def handle(self, *args, **options) -> None:
        try:
            outcome = setup_centre(options["file"], dry_run=options["dry_run"])
        except CentreFileError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{len(exc.problems)} problem(s) in {options['file']}; nothing was changed"
            ) from None
        for change in outcome.changes:
            self.stdout.write(str(change))
        verb = "would change" if outcome.dry_run else "changed"
        summary = (
            f"{len(outcome.changes)} change(s) {verb}"
            if outcome.changes
            else "Already in line: nothing to change"
        )
        self.stdout.write(
            self.style.SUCCESS(summary + (" (dry run: nothing was written)" if outcome.dry_run else ""))
        )
