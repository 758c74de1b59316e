"""Entity resolution's stored state: blocking keys, scored links, and the analysts' decisions on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.agencies.scoping import ScopedManager
from apps.intake.models import DataSource, Subject


class BlockKey(models.Model):
    """A blocking key of a person or trader record, as a keyed hash (it is made of names and birth dates).

    A new batch is linked against everything stored by looking its keys up here (one indexed equality
    probe a key) instead of comparing it with every stored record.
    """

    # No foreign-key constraint in the database: a traveller has seven blocking keys, and PostgreSQL
    # checks each key's subject again at commit, a tenth of the database's time in a bulk intake. Keys
    # are written only for subjects the same transaction has just inserted; Django's collector still
    # deletes them with their subject (``on_delete`` is Python's), and a key left by a subject deleted
    # otherwise finds nothing: candidates are read back through the live subjects.
    subject = models.ForeignKey(
        Subject, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    key = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "key"], name="block_key_once")]
        indexes = [models.Index(fields=["key"], name="block_key_value")]

    def __str__(self) -> str:
        return self.key


class LinkRecord(models.Model):
    """A person or trader record's linking fields as the engine prepared them (``resolution.prepare``).

    Written once, with the record's blocking keys: a later batch that shares a key with the record reads
    this row (one primary-key probe) instead of reading the record's facts and preparing them again,
    which was most of the cost of linking a batch once much was stored. ``fields`` holds the prepared
    columns in the engine's order, joined by ``SEPARATOR``. It is a copy of the record's names, birth
    date and document: deleted with the record (cascade), and by ``compliance.erasure.erase_copies``
    when an erased record is kept scrubbed in place.
    """

    SEPARATOR = "\x1f"  # ASCII unit separator: never in a prepared field (see ``services._packed``)

    subject = models.OneToOneField(Subject, on_delete=models.CASCADE, primary_key=True, related_name="+")
    fields = models.TextField()

    def __str__(self) -> str:
        return str(self.subject_id)


class EntityLink(models.Model):
    """Two records found to be the same person or the same trader, with the score and the reasons.

    The matching ``SubjectLink`` (kind ``same_person`` / ``same_trader``) is what the subject page and
    the network follow; this row says how sure the linker was and why, and whether a person confirmed it.
    Visible to a viewer only when both records are.
    """

    class Status(models.TextChoices):
        FOUND = "found", "Found by the linker"
        CONFIRMED = "confirmed", "Confirmed by an analyst"

    from_subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+", db_index=False)
    to_subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=15)  # SubjectLink.Kind.SAME_PERSON or SAME_TRADER
    score = models.FloatField(help_text="Probability that the two records are one identity.")
    weight = models.FloatField(help_text="The evidence, in log2 odds (above 0: linked).")
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FOUND)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_subject", "to_subject"], name="entity_link_once"),
        ]

    def __str__(self) -> str:
        return f"{self.from_subject_id} {self.kind} {self.to_subject_id} ({self.score:.2f})"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        visible = Subject.objects.filter(Subject.visibility_q(membership)).values("pk")
        return Q(from_subject__in=visible) & Q(to_subject__in=visible)


class LinkDecision(models.Model):
    """An analyst's word on whether two records are one identity: confirmed, or split.

    Keyed by the records' business identities (source and external id), not their row ids, so that the
    decision holds for the next version of either record: a re-import makes new rows, and the linker
    reads these decisions before it links.
    """

    class Decision(models.TextChoices):
        CONFIRM = "confirm", "Confirmed: the same"
        SPLIT = "split", "Split: not the same"

    a_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="+")
    a_external_id = models.CharField(max_length=200)
    b_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="+")
    b_external_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=15)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["a_source", "a_external_id", "b_source", "b_external_id"], name="decision_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision}: {self.a_external_id} / {self.b_external_id}"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        visible = DataSource.objects.filter(DataSource.visibility_q(membership)).values("pk")
        return Q(a_source__in=visible) & Q(b_source__in=visible)


class LinkBacklog(models.Model):
    """A stored batch of person and trader records waiting to be linked (``services.link_backlog``).

    Intake writes the row in the batch's own transaction and queues the linking task after commit: the
    intake ends when its records are stored, and the links follow. The row, not the task message, is
    the work: batches are linked oldest first, each against every batch linked before it (as when
    they were linked inside intake's transaction), and a task lost with its worker or its broker
    leaves the row for the next task to link.
    """

    subject_ids = models.JSONField(help_text="The batch's person and trader records, as stored.")
    upto = models.BigIntegerField(help_text="The batch's last subject id: linked as things stood then.")
    queued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"batch of {len(self.subject_ids)} queued {self.queued_at:%Y-%m-%d %H:%M:%S}"
