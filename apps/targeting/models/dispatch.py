"""Sending targets to the ports: the dispatcher's proposal for a shift and the instructions it yields."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.models import ExaminationMethod, Shift
from apps.agencies.scoping import ScopedManager
from apps.targeting.models.choices import EXAMINATION_FOCUS, RISK_AREAS
from apps.targeting.models.target import Target


class DispatchProposal(models.Model):
    """The dispatcher's proposal for one port and shift: what to examine, by which method, and what not.

    ``selected`` is ``[{"target", "version", "method", "p", "value"}]``; ``left_out`` is
    ``[{"target", "reason"}]``. A supervisor accepts it (possibly edited), which dispatches the targets.
    """

    port = models.ForeignKey("agencies.Port", on_delete=models.PROTECT, related_name="+")
    shift = models.CharField(max_length=10, choices=Shift.choices)
    date = models.DateField(null=True, blank=True, help_text="The day of the shift (the day it starts).")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    capacity = models.JSONField(default=dict)
    capacity_source = models.JSONField(
        default=dict, blank=True, help_text="Per method: the weekly default or the calendar's day (and why)."
    )
    selected = models.JSONField(default=list)
    left_out = models.JSONField(default=list)
    expected_findings = models.FloatField(default=0)
    baseline_findings = models.FloatField(default=0, help_text="First come, first served, for comparison.")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Proposal {self.pk} for {self.port_id} {self.shift}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """The agency's proposals, to the people who plan the examinations. An officer at the port (or a
        port system) works from instructions: a proposal would tell him which target was drawn for random
        control and what each is expected to find, which nothing else shows him."""
        if Target.role_narrows(membership):
            return Q(pk__in=[])
        return Q(agency_id=membership.agency_id)


class Instruction(models.Model):
    """An examination instruction: an approved target sent to a port, with method and what the officer
    may see of the intelligence behind it."""

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="instructions")
    port = models.ForeignKey("agencies.Port", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=ExaminationMethod.choices)
    shift = models.CharField(max_length=10, choices=Shift.choices, blank=True)
    instruction = models.TextField(help_text="What the officer is told: the intelligence he may see.")
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField(default=timezone.now, db_index=True)
    proposal = models.ForeignKey(
        DispatchProposal, on_delete=models.SET_NULL, null=True, blank=True, related_name="instructions"
    )

    objects = ScopedManager()

    class Meta:
        ordering = ["-dispatched_at", "-id"]

    def __str__(self) -> str:
        return f"Instruction {self.pk}: {self.get_method_display()} at {self.port_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(target__in=Target.visible_pks(membership))


class ExaminationFocus(models.Model):
    """What to look for in an examination of one risk area, in the centre's own words.

    The first words of every instruction of that area that the dispatcher does not write himself
    (``services.default_instruction``), whatever selected the target: a rule, the model, a person or the
    random control. An area without a row reads the product's words (``EXAMINATION_FOCUS``). Reference
    data of the whole floor, kept by the national centre (admin, ``setup_centre``).
    """

    risk_area = models.CharField(max_length=20, choices=RISK_AREAS, unique=True)
    text = models.TextField(
        max_length=500,
        help_text="What the officer looks for in an examination of this risk area: plain words, the same "
        "for every target of the area (never a rule, a list or a person).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["risk_area"]
        verbose_name = "examination focus"
        verbose_name_plural = "examination focus"

    def __str__(self) -> str:
        return self.get_risk_area_display()

    @classmethod
    def words(cls) -> dict[str, str]:
        """Each risk area's words: the centre's where it wrote them, else the product's."""
        written = {area: text.strip() for area, text in cls.objects.values_list("risk_area", "text")}
        return {**EXAMINATION_FOCUS, **{area: text for area, text in written.items() if text}}
