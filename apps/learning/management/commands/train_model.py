"""``manage.py train_model [--source NAME]... [--activate]``: train a risk model on stored outcomes."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.intake.models import DataSource, SourceKind
from apps.learning.models import TrainingRun
from apps.learning.services import train_now

METRIC_ROWS = (
    ("precision", "Precision"),
    ("recall", "Recall"),
)


class Command(BaseCommand):
    help = "Train a risk model on the labelled declarations of a data source and record a model version."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--source",
            action="append",
            help="data source name (repeat for several; default: every declaration source that allows "
            "self-learning, of the first such source's agency)",
        )
        parser.add_argument("--activate", action="store_true", help="activate the new version when done")
        parser.add_argument("--params", help='JSON of training parameters, e.g. {"max_rounds": 300}')

    def handle(self, *args, **options) -> None:
        sources = self._sources(options["source"])
        params = json.loads(options["params"]) if options["params"] else None
        bar = tqdm(total=100, unit="%", desc="train", disable=options["verbosity"] == 0)

        def progress(run: TrainingRun) -> None:
            bar.n = run.percent
            bar.set_postfix_str(run.message[:60])
            bar.refresh()

        try:
            run = train_now(
                actor=None, sources=sources, params=params, activate=options["activate"], progress=progress
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        finally:
            bar.close()
        version = run.model_version
        if version is None:  # a run that fails raises above; a finished run has its version
            raise CommandError(run.message or "The training run produced no model.")
        m = version.metrics
        self.stdout.write(
            f"{version} of {version.owner_agency.code}: {version.data_summary.get('rows')} labelled declarations "
            f"({', '.join(version.source_names)}), window {version.window_start} to {version.window_end}, "
            f"{version.training_seconds:.1f} s; status {version.get_status_display().lower()}."
        )
        self.stdout.write(f"Metrics on the time-ordered holdout ({int(m.get('n', 0))} declarations):")
        self.stdout.write(f"  {'inspection rate':<16}{'1%':>8}{'5%':>8}{'10%':>8}")
        for key, label in METRIC_ROWS:
            cells = "".join(f"{m.get(f'{key}@{k}', float('nan')):>8.3f}" for k in ("1%", "5%", "10%"))
            self.stdout.write(f"  {label:<16}{cells}")
        self.stdout.write(f"  {'AUC':<16}{m.get('auc', float('nan')):>8.3f}")
        self.stdout.write(f"  {'base rate':<16}{m.get('base_rate', float('nan')):>8.3f}")

    def _sources(self, names: list[str] | None) -> list[DataSource]:
        if names:
            found = list(DataSource.objects.filter(name__in=names))
            missing = sorted(set(names) - {s.name for s in found})
            if missing:
                known = ", ".join(DataSource.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"no data source named {', '.join(missing)} (known: {known})")
            return found
        first = (
            DataSource.objects.filter(kind=SourceKind.DECLARATION, allows_self_learning=True)
            .order_by("pk")
            .first()
        )
        if first is None:
            raise CommandError("no declaration source allows self-learning; name one with --source")
        return list(
            DataSource.objects.filter(
                kind=SourceKind.DECLARATION, allows_self_learning=True, owner_agency_id=first.owner_agency_id
            )
        )
