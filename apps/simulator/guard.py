"""The simulator never writes into a live centre's database.

Invented arrivals, travellers and truths in a live database would mix with real declarations and real
targets: a made-up courier on a real officer's tablet, a made-up seizure in the minister's report. So
every writer of made-up data (the demo simulator, the training floor's scenarios) asks
:func:`ensure_exercise_database` first, and it refuses unless both hold:

* the installation says it is an exercise: ``RATC_DEMO`` (the demo) or ``RATC_TRAINING`` (a training
  floor) is set; a live centre sets neither (:mod:`apps.core.exercise`, which the live floor uses
  without this app);
* the database says so too: it carries an :class:`~apps.simulator.models.ExerciseDatabase` mark of the
  same kind. A database without the mark is marked on first use only while it holds no subjects at all
  (or, for the demo, when the simulator's own state row shows it ran there before the mark existed);
  one that already holds subjects otherwise is somebody's real work, and is refused.

The second check is what stops the usual accident: ``RATC_TRAINING=1`` (or ``RATC_DEMO=1``) set by
habit on a server whose ``DATABASE_URL`` still names the live database.
"""

from __future__ import annotations

from django.db import transaction

from apps.core.exercise import LiveCentreRefused, database_name, refuse_live_centre
from apps.simulator.models import ExerciseDatabase, SimState

# LiveCentreRefused is what ensure_exercise_database raises: its callers catch it from here.
__all__ = ["LiveCentreRefused", "ensure_exercise_database"]


def ensure_exercise_database(*, what: str) -> ExerciseDatabase:
    """The database's exercise mark, made on first use of an empty database; raises
    :class:`LiveCentreRefused` with what to do when ``what`` (e.g. "The floor simulator") may not run."""
    from apps.intake.models import Subject

    kind = refuse_live_centre(what=what)  # a live centre is refused before its database is read
    database = database_name()
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
