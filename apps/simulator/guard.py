"""The simulator never writes into a live centre's database.

Invented arrivals, travellers and truths in a live database would mix with real declarations and real
targets: a made-up courier on a real officer's tablet, a made-up seizure in the minister's report. So
every writer of made-up data (the demo simulator, the training floor's scenarios) asks
:func:`ensure_exercise_database` first, and it refuses unless both hold:

* the installation says it is an exercise: ``RATC_DEMO`` (the demo) or ``RATC_TRAINING`` (a training
  floor) is set; a live centre sets neither;
* the database says so too: it carries an :class:`~apps.simulator.models.ExerciseDatabase` mark of the
  same kind. A database without the mark is marked on first use only while it holds no subjects at all
  (or, for the demo, when the simulator's own state row shows it ran there before the mark existed);
  one that already holds subjects otherwise is somebody's real work, and is refused.

The second check is what stops the usual accident: ``RATC_TRAINING=1`` (or ``RATC_DEMO=1``) set by
habit on a server whose ``DATABASE_URL`` still names the live database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from apps.simulator.models import ExerciseDatabase, SimState

__all__ = ["LiveCentreRefused", "ensure_exercise_database", "installation_kind"]


class LiveCentreRefused(RuntimeError):
    """The database is (or may be) a live centre's: nothing made-up is written into it."""


def installation_kind() -> str:
    """``training``, ``demo`` or ``live``, as the installation's settings say."""
    if getattr(settings, "RATC_TRAINING", False):
        return ExerciseDatabase.Kind.TRAINING
    if getattr(settings, "RATC_DEMO", False):
        return ExerciseDatabase.Kind.DEMO
    return "live"


def _database_name() -> str:
    name = connection.settings_dict.get("NAME") or ""
    return str(name).rsplit("/", 1)[-1]


def ensure_exercise_database(*, what: str) -> ExerciseDatabase:
    """The database's exercise mark, made on first use of an empty database; raises
    :class:`LiveCentreRefused` with what to do when ``what`` (e.g. "The floor simulator") may not run."""
    from apps.intake.models import Subject

    kind = installation_kind()
    database = _database_name()
    if kind == "live":
        raise LiveCentreRefused(
            f"{what} refused to run: this installation is a live centre (neither RATC_TRAINING nor "
            f"RATC_DEMO is set), and its database {database!r} holds real work. Made-up arrivals never go "
            "into a live database. Run a training floor on its own database instead: RATC_TRAINING=1 "
            "RATC_TRAINING_DATABASE_URL=<an empty database> (see docs/training.md)."
        )
    with transaction.atomic():
        mark = ExerciseDatabase.objects.select_for_update().order_by("pk").first()
        if mark is None:
            subjects = Subject.objects.count()
            # A demo database from before the mark existed: the simulator's own state row says it ran here.
            earlier_demo = kind == ExerciseDatabase.Kind.DEMO and SimState.objects.exists()
            if subjects and not earlier_demo:
                raise LiveCentreRefused(
                    f"{what} refused to run: the database {database!r} holds {subjects} subjects and was "
                    f"never marked as a {kind} database, so it may be a live centre's. Point "
                    + ("RATC_TRAINING_DATABASE_URL" if kind == "training" else "DATABASE_URL")
                    + " at an empty database (see docs/training.md)."
                )
            mark = ExerciseDatabase.objects.create(kind=kind, note=f"marked by: {what}"[:200])
    if mark.kind != kind:
        raise LiveCentreRefused(
            f"{what} refused to run: the database {database!r} belongs to a {mark.get_kind_display().lower()}, "
            f"not to this {'training floor' if kind == 'training' else 'demo'}. Give each its own database."
        )
    return mark
