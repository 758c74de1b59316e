"""``manage.py ingest PATH... [--format F] [--source NAME]``: intake from files, with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.intake.models import DataSource, IntakeRun
from apps.intake.services import FORMATS, ingest_paths, iter_files


class Command(BaseCommand):
    help = "Ingest manifests, declarations, API and PNR files (or folders of them) into a data source."
    # The system checks import every URL module and view (seconds on a shared machine) before a file
    # is read; an intake touches none of them, and ``manage.py check`` runs them in CI and on deploy.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", help="files or folders")
        parser.add_argument("--format", default="auto", choices=FORMATS, help="default: detect per file")
        parser.add_argument(
            "--source", help="data source name (default: the first source of the format's kind)"
        )

    def handle(self, *args, **options) -> None:
        source = None
        if options["source"]:
            try:
                source = DataSource.objects.get(name=options["source"])
            except DataSource.DoesNotExist:
                names = ", ".join(DataSource.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"no data source named {options['source']!r} (known: {names})") from None
        files = list(iter_files(options["paths"]))
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        bar = tqdm(total=len(files), unit="file", desc="ingest", disable=options["verbosity"] == 0)
        done_before: dict[int, int] = {}

        def progress(run: IntakeRun) -> None:
            done_before[run.pk] = run.progress_done
            bar.n = sum(done_before.values())
            bar.set_postfix(stored=run.counts.get("subjects", 0), dup=run.counts.get("duplicates", 0))
            bar.refresh()

        try:
            runs = ingest_paths(
                actor=None, source=source, paths=files, fmt=options["format"], progress=progress
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        problems = 0
        for run in runs:
            c = run.counts
            self.stdout.write(
                f"Run {run.pk} into {run.source.name!r}: {c.get('files', 0)} files, {c.get('messages', 0)} messages stored, "
                f"{c.get('subjects', 0)} subjects, {c.get('duplicates', 0)} duplicates, {c.get('superseded', 0)} superseded, "
                f"{c.get('cancelled', 0)} cancelled, {c.get('filtered_fields', 0)} sensitive fields filtered, "
                f"{c.get('rejected_files', 0)} files rejected, {c.get('problems', 0)} problems"
            )
            for problem in run.problems:
                self.stderr.write(f"  rejected: {problem['file']}: {problem['where']}: {problem['reason']}")
            problems += len(run.problems)
        if problems:
            raise CommandError(f"{problems} problem(s) in this intake; see above", returncode=1)
