"""Watchlists as data: lists owned by an agency, their entries, and the import runs that fill them.

A ``Watchlist`` is owned by one agency (``AgencyOwned``); another agency sees it only through a guardian
grant (``view_watchlist``) to its agency group, recorded in :class:`WatchlistGroupObjectPermission`.
Entries and import runs are visible exactly when their list is. Every change to a list's entries
bumps ``Watchlist.version``, which the in-process screening cache (``apps.watchlists.screening``) reads
to know when to rebuild its index.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase

from apps.agencies.scoping import AgencyOwned, ScopedManager, granted_pks


class SourceFormat(models.TextChoices):
    UN = "un", "UN Security Council consolidated list (XML)"
    OFAC = "ofac", "OFAC SDN list (legacy CSV)"
    CSV = "csv", "Generic CSV"
    MANUAL = "manual", "Kept by hand"
    API = "api", "Pushed through the API"


class EntryKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"
    VESSEL = "vessel", "Vessel"
    AIRCRAFT = "aircraft", "Aircraft"
    VEHICLE = "vehicle", "Vehicle"
    CONTAINER = "container", "Container"
    PHONE = "phone", "Phone number"
    EMAIL = "email", "E-mail address"
    PAYMENT_CARD = "payment_card", "Payment card (hash)"


class HandlingCode(models.TextChoices):
    """What an officer does when a subject matches: the list's owner decides, per list or per entry."""

    NOTIFY = "notify", "Notify the owner agency; no action towards the subject"
    EXAMINE = "examine", "Examine, then notify the owner agency"
    DISCREET = "discreet", "Do not alert the subject; notify the owner agency at once"
    HOLD = "hold", "Hold the subject and call the owner agency"
    DENY = "deny", "Refuse release (sanctions): call the owner agency"


class Watchlist(AgencyOwned):
    """A list of persons, organisations, vessels... kept by one agency and screened against subjects."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    source_kind = models.CharField(max_length=10, choices=SourceFormat.choices, default=SourceFormat.MANUAL)
    default_handling = models.CharField(
        max_length=10, choices=HandlingCode.choices, default=HandlingCode.NOTIFY
    )
    risk_area = models.CharField(max_length=20, default="security", help_text="Risk area of its matches.")
    weight = models.PositiveSmallIntegerField(
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Points out of 100 a perfect match adds to a risk score (scaled by match strength).",
    )
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every change to its entries.")
    false_hit_rate = models.FloatField(
        default=0.001,
        validators=[MinValueValidator(0.00001), MaxValueValidator(0.1)],
        help_text="Share of ordinary travellers a match on this list may flag; its threshold keeps to it.",
    )
    match_threshold = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.5), MaxValueValidator(0.999)],
        help_text="Match score at or above which a subject raises a hit; set by calibration.",
    )
    calibration = models.JSONField(
        default=dict, blank=True, help_text="How the threshold was chosen: sample, rate measured, when."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def false_hit_percent(self) -> str:
        """The stated false-hit rate as people read it: "0.1 %"."""
        return f"{self.false_hit_rate * 100:g} %"

    def check_operation(self, membership: Any, operation: str) -> None:
        """Only the owner agency manages a list; a grant lets others see and screen, never edit."""
        if operation == "watchlist.manage" and membership.agency_id != self.owner_agency_id:
            raise PermissionDenied("Only the owner agency may change this watchlist.")


class WatchlistGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-foreign-key guardian table: grants on a watchlist to an agency's group (``view_watchlist``)."""

    content_object = models.ForeignKey(Watchlist, on_delete=models.CASCADE)


def _list_visibility(membership: Any, prefix: str) -> Q:
    return Q(**{f"{prefix}owner_agency_id": membership.agency_id}) | Q(
        **{f"{prefix}pk__in": granted_pks(Watchlist, membership)}
    )


class WatchlistEntry(models.Model):
    """One listed person, organisation, vessel... as stored; mirrors ``importers.WatchlistEntry``.

    ``external_id`` is the list's own stable id (UN ``DATAID``, OFAC ``ent_num``...), unique per list, so
    a re-import updates rather than duplicates. Entries no longer in a list are deactivated, never
    deleted: a past match must still point at what matched. ``fingerprint`` is a hash of the imported
    content, so a re-import counts (and writes) only the entries that really changed.
    """

    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="entries")
    external_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=EntryKind.choices, default=EntryKind.PERSON)
    name = models.CharField(max_length=500)
    aliases = models.JSONField(default=list, blank=True, help_text="[{name, quality, alias_type}]")
    dates_of_birth = models.JSONField(
        default=list, blank=True, help_text="[{year, month, day, year_to, approximate}]"
    )
    places_of_birth = models.JSONField(default=list, blank=True)
    nationalities = models.JSONField(default=list, blank=True, help_text="ISO alpha-2 where known")
    documents = models.JSONField(default=list, blank=True, help_text="[{doc_type, number, country, note}]")
    addresses = models.JSONField(default=list, blank=True, help_text="[{text, country}]")
    identifiers = models.JSONField(
        default=dict,
        blank=True,
        help_text="Exact keys in normal form (apps.intake.keys): {imo, container, phone, email, document, "
        "payment_card: [...]}",
    )
    programmes = models.JSONField(default=list, blank=True)
    gender = models.CharField(max_length=20, blank=True)
    reference = models.CharField(max_length=50, blank=True, help_text="The list's own reference.")
    remarks = models.TextField(blank=True)
    listed_on = models.DateField(null=True, blank=True)
    handling_code = models.CharField(
        max_length=10, choices=HandlingCode.choices, blank=True, help_text="Blank: the list's default."
    )
    expires_on = models.DateField(null=True, blank=True, help_text="No longer screened from this day.")
    active = models.BooleanField(default=True)
    fingerprint = models.CharField(max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "watchlist entries"
        constraints = [
            models.UniqueConstraint(fields=["watchlist", "external_id"], name="entry_once_per_list"),
        ]
        indexes = [models.Index(fields=["watchlist", "active", "kind"], name="entry_list_active_kind")]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return _list_visibility(membership, "watchlist__")

    @property
    def handling(self) -> str:
        """The handling code that applies: the entry's own, else its list's default."""
        return self.handling_code or self.watchlist.default_handling

    def get_handling_display(self) -> str:
        return HandlingCode(self.handling).label

    def is_live(self, today: dt.date | None = None) -> bool:
        """Active and not expired: screened today."""
        today = today or dt.date.today()
        return self.active and (self.expires_on is None or self.expires_on > today)


class ImportRun(models.Model):
    """One import of a file (or an API push) into a list: progress while it runs, counts when done."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="imports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    format = models.CharField(max_length=10, choices=SourceFormat.choices)
    files = models.JSONField(default=list, help_text="File names as given.")
    deactivate_missing = models.BooleanField(
        default=True, help_text="A full list: entries not in it are deactivated."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text="{read, added, updated, unchanged, deactivated}")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import {self.pk} into {self.watchlist}: {self.get_status_display()}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return _list_visibility(membership, "watchlist__")

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class MatchRuling(models.TextChoices):
    """A person's ruling on a watchlist hit: only a true match (or a documented doubt) may lead to action."""

    TRUE_MATCH = "true_match", "True match"
    FALSE_MATCH = "false_match", "False match"
    UNSURE = "unsure", "Unsure"


def _subject_and_list_visibility(membership: Any, prefix: str) -> Q:
    """A hit is visible where both its parents are: the subject (its source) and the list (its owner)."""
    from apps.intake.models import Subject

    return Q(**{f"{prefix}subject__in": Subject.objects.filter(Subject.visibility_q(membership))}) & Q(
        **{f"{prefix}entry__watchlist__in": Watchlist.objects.filter(Watchlist.visibility_q(membership))}
    )


class WatchlistHit(models.Model):
    """A list entry that matched a subject, kept across re-screenings: one row per (subject, entry).

    Written by the risk engine (``rulings.record_screening``) when an assessment's watchlist screening
    matches. The row carries no copy of the subject's personal data (it cascades with the subject);
    ``last_assessment_id`` names the latest assessment in which the entry matched (a plain id: the risk
    app sits beside this one, not below it). A person rules each hit (:class:`HitRuling`).
    """

    subject = models.ForeignKey("intake.Subject", on_delete=models.CASCADE, related_name="watchlist_hits")
    entry = models.ForeignKey(WatchlistEntry, on_delete=models.CASCADE, related_name="hits")
    score = models.FloatField(help_text="Match strength, 0-1, at the latest screening.")
    subject_field = models.CharField(max_length=60, blank=True, help_text="What of the subject matched.")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    last_assessment_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "entry"], name="hit_once_per_subject_entry")
        ]

    def __str__(self) -> str:
        return f"Watchlist hit {self.pk}: entry {self.entry_id} on subject {self.subject_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return _subject_and_list_visibility(membership, "")

    @property
    def latest_ruling(self) -> HitRuling | None:
        """The ruling that counts: the latest one (prefetch ``rulings`` to read many hits at once)."""
        rulings = list(self.rulings.all())
        return max(rulings, key=lambda r: (r.ruled_at, r.pk)) if rulings else None


class HitRuling(models.Model):
    """One person's ruling on a hit, with a reason: append-only; the latest ruling of a hit counts.

    ``entry_fingerprint`` is the entry's content hash when ruled: a false match is remembered (and the
    entry no longer screened against that subject) only while the entry is unchanged.
    """

    hit = models.ForeignKey(WatchlistHit, on_delete=models.CASCADE, related_name="rulings")
    ruling = models.CharField(max_length=12, choices=MatchRuling.choices)
    reason = models.TextField()
    ruled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    ruled_at = models.DateTimeField(default=timezone.now, db_index=True)
    entry_fingerprint = models.CharField(max_length=40, blank=True, editable=False)

    objects = ScopedManager()

    class Meta:
        ordering = ["-ruled_at", "-pk"]
        indexes = [models.Index(fields=["hit", "-ruled_at"], name="ruling_hit_latest")]

    def __str__(self) -> str:
        return f"{self.get_ruling_display()} on hit {self.hit_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionDenied("A ruling is kept as made; rule the hit again instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied("A ruling is kept as made; rule the hit again instead.")

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return _subject_and_list_visibility(membership, "hit__")
