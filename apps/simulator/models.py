"""The simulator's own tables: its state, its planned arrivals, the hidden truths and what it did.

Nothing here is shown to the floor: truths are what an examination *would* find, known only to the
simulator that plays the frontline officers. The unique constraints are what make a tick idempotent:
an arrival is announced once (``SimArrival.key``), a truth is stored once (``SubjectTruth.key``), and the
simulated staff act once per target and step (``SimAction``).

The explicit ``app_label`` lets the tests import these models before the app is in ``INSTALLED_APPS``.
"""

from __future__ import annotations

from django.db import models


class SimState(models.Model):
    """One row: the seed, the speed, the per-port planning cursors and the lease of the running simulator.

    Only the holder of an unexpired lease ticks, so a simulator inside Daphne and one started by hand (or
    one per Daphne process on a real deployment) never both act.
    """

    seed = models.BigIntegerField(default=2026)
    speed = models.FloatField(default=60.0, help_text="Simulated seconds per real second.")
    cursors = models.JSONField(default=dict, help_text="{port: {n: next arrival number, at: ISO time}}")
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    setup_done = models.JSONField(default=dict, help_text="{step: ISO time} of the first-start steps done.")
    ticks = models.PositiveIntegerField(default=0)
    last_tick_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "simulator"
        verbose_name = verbose_name_plural = "simulator state"

    def __str__(self) -> str:
        return f"Simulator (seed {self.seed}, x{self.speed:g})"


class SimArrival(models.Model):
    """A planned arrival: when its data is sent, when it arrives, and whether it was sent."""

    key = models.CharField(max_length=40, unique=True, help_text="<port>:<number>")
    port = models.CharField(max_length=5)
    number = models.PositiveIntegerField()
    mode = models.CharField(max_length=10)
    title = models.CharField(max_length=200, blank=True)
    announce_at = models.DateTimeField(db_index=True)
    arrival_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped = models.BooleanField(default=False, help_text="Its time passed while no simulator ran.")
    subjects = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "simulator"
        ordering = ["announce_at", "pk"]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"


class SubjectTruth(models.Model):
    """What an examination of a subject would find (travellers by document, consignments by reference)."""

    key = models.CharField(max_length=80, unique=True)
    pattern = models.CharField(max_length=20)
    violation = models.BooleanField(default=False)
    outcome = models.CharField(max_length=15, default="no_finding")
    goods_kind = models.CharField(max_length=20, blank=True)
    quantity = models.FloatField(default=0)
    unit = models.CharField(max_length=10, blank=True)
    value = models.FloatField(default=0)
    revenue = models.FloatField(default=0)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        app_label = "simulator"

    def __str__(self) -> str:
        return f"{self.key}: {self.pattern} {'violation' if self.violation else 'clean'}"


class SimAction(models.Model):
    """One step the simulated staff took on a target, with how many targeting transitions it made.

    Comparing these with the target's transitions tells the simulator whether a person on the floor
    has touched the target; if so it leaves the target to them.
    """

    target_id = models.PositiveIntegerField(db_index=True)
    step = models.CharField(max_length=20)
    transitions = models.PositiveSmallIntegerField(default=1)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "simulator"
        constraints = [models.UniqueConstraint(fields=["target_id", "step"], name="sim_action_once")]

    def __str__(self) -> str:
        return f"{self.target_id} {self.step}"


class ExerciseDatabase(models.Model):
    """One row: this database was made for exercises (the demo or a training floor), never a live centre.

    The simulator writes invented arrivals; in a live centre's database they would mix with real
    declarations, travellers and targets. So it writes only into a database that carries this mark, and
    it marks a database itself only when that database holds no subjects yet (``apps.simulator.guard``).
    ``kind`` keeps the demo and a training floor apart too: the demo's random traffic must not pour into
    an exercise that is being scored.
    """

    class Kind(models.TextChoices):
        DEMO = "demo", "Demo"
        TRAINING = "training", "Training floor"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    marked_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        app_label = "simulator"
        verbose_name = verbose_name_plural = "exercise database mark"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} database (marked {self.marked_at:%Y-%m-%d})"
