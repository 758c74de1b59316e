"""The training floor's own tables: exercises, who trains in them, their scripted arrivals and the answers.

An exercise freezes the scenario's YAML text when it starts (``scenario_text``), so editing the file
later changes no exercise already run; its arrivals are re-made from that text and the seed whenever
they are sent (the generators are deterministic). The answers (``PlantedItem``) are what the trainer
marks against; nobody on the floor sees them until the exercise has finished.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.agencies.scoping import ScopedManager

#: Roles that run exercises and read the scoreboard while one runs (trainees read it after the end).
TRAINER_ROLES = frozenset({"supervisor", "risk_manager", "manager", "administrator"})


class Exercise(models.Model):
    """One run of a scenario on the training floor, by a trainer, at a speed, for some trainees."""

    class State(models.TextChoices):
        STARTING = "starting", "Starting"  # rules, alerts and model being made by the runner
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    scenario = models.CharField(max_length=60, help_text="The scenario's key (its file name).")
    title = models.CharField(max_length=200)
    scenario_text = models.TextField(help_text="The scenario's YAML as it was when the exercise started.")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    trainees = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="training_exercises")
    speed = models.FloatField(help_text="Simulated seconds per real second.")
    seed = models.BigIntegerField(default=2026)
    state = models.CharField(max_length=10, choices=State.choices, default=State.STARTING)
    prepare_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display().lower()})"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """An exercise belongs to its trainer's agency; no other agency sees it exists."""
        return Q(agency_id=membership.agency_id)


class ExerciseArrival(models.Model):
    """A scripted arrival of an exercise: when its data is sent, when it arrives, whether it was sent."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="arrivals")
    number = models.PositiveSmallIntegerField(help_text="Its place in the scenario's list of arrivals.")
    label = models.CharField(max_length=40, help_text="The scenario's id for it, or background-N.")
    title = models.CharField(max_length=200)
    port = models.CharField(max_length=5)
    announce_at = models.DateTimeField()
    arrival_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    subjects = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["announce_at", "number"]
        constraints = [models.UniqueConstraint(fields=["exercise", "number"], name="training_arrival_once")]

    def __str__(self) -> str:
        return f"{self.label} {self.title}"


class PlantedItem(models.Model):
    """One answer of the exercise: a planted subject, what it is, and what a trainee should decide.

    ``expect``: ``target`` (a true violation: nominate it or send it for approval), ``release`` (clean
    however it looks: withdraw or leave it) or ``leave`` (a partner's hold: do not act on it).
    """

    class Expect(models.TextChoices):
        TARGET = "target", "Target it"
        RELEASE = "release", "Release it"
        LEAVE = "leave", "Leave it to the partner (hold)"

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="planted")
    ref = models.CharField(max_length=40, help_text="The scenario's id of the subject.")
    truth_key = models.CharField(max_length=80, help_text="doc:<document> or decl:<declaration id>")
    subject = models.ForeignKey(
        "intake.Subject", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    expect = models.CharField(max_length=10, choices=Expect.choices)
    risk_area = models.CharField(max_length=20, blank=True)
    finding = models.CharField(max_length=300, blank=True, help_text="What an examination would find.")
    blind_spot = models.BooleanField(default=False, help_text="The model cannot see this one.")
    hold = models.JSONField(default=dict, blank=True, help_text="{agency, reason} of a partner's hold.")
    hold_placed = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["exercise", "ref"], name="training_planted_once")]

    def __str__(self) -> str:
        return f"{self.ref}: {self.title} ({self.expect})"

    @property
    def violation(self) -> bool:
        """A violation the trainee should target (a held one is scored as a hold, not as a find)."""
        return self.expect == self.Expect.TARGET
