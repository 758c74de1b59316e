"""``manage.py export_scores --source NAME --output scores.csv``: the active model's score per declaration."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.intake.models import DataSource
from apps.learning.scoring import score_source


class Command(BaseCommand):
    help = (
        "Write id (the declaration id as received) and score (probability of a finding) for every current "
        "consignment of a source, scored by its agency's active model."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", required=True, help="data source name")
        parser.add_argument("--output", required=True, help="CSV file to write")

    def handle(self, *args, **options) -> None:
        try:
            source = DataSource.objects.get(name=options["source"])
        except DataSource.DoesNotExist:
            known = ", ".join(DataSource.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"no data source named {options['source']!r} (known: {known})") from None
        try:
            scores, version = score_source(source)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        scores.to_csv(options["output"], index=False, float_format="%.6f")
        self.stdout.write(f"{len(scores)} scores by {version} written to {options['output']}")
