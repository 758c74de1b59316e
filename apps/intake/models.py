"""Data sources: who owns each feed, on what legal basis, how long it is kept and who may see it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform
from guardian.models import GroupObjectPermissionBase

from apps.agencies.scoping import AgencyOwned, ScopedManager, granted_pks


class SourceKind(models.TextChoices):
    CARGO_MANIFEST = "cargo_manifest", "Cargo manifest / air waybill"
    DECLARATION = "declaration", "Customs declaration"
    API = "api", "Advance Passenger Information (API)"
    PNR = "pnr", "Passenger Name Record (PNR)"
    TRADER_REGISTER = "trader_register", "Trader register"
    ENFORCEMENT = "enforcement", "Law-enforcement data"


class DataSource(AgencyOwned):
    """A feed of records into the centre (BRIEF capability 1 and 9).

    The owner agency sees it; other agencies see it only when granted (a guardian ``view_datasource``
    permission given to their agency group), which is how "what each agency may see of each source
    follows its legal basis" is recorded.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    legal_basis = models.TextField(help_text="The law or agreement that allows this processing.")
    retention_days = models.PositiveIntegerField(
        default=5 * 365, validators=[MinValueValidator(1)], help_text="Records are deleted after this."
    )
    depersonalise_after_days = models.PositiveIntegerField(
        default=182,
        validators=[MinValueValidator(1)],
        help_text="Identifying fields are masked after this many days.",
    )
    allows_self_learning = models.BooleanField(
        default=True, help_text="Whether a self-learning model may score records of this source."
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def check_operation(self, membership, operation: str) -> None:
        """Only the owner agency manages or shares a source; others may at most see it."""
        if operation in {"source.manage", "source.share"} and membership.agency_id != self.owner_agency_id:
            raise PermissionDenied("Only the owner agency may manage or share this source.")


class DataSourceGroupObjectPermission(GroupObjectPermissionBase):
    """Direct-foreign-key guardian table: grants on a source to an agency's group."""

    content_object = models.ForeignKey(DataSource, on_delete=models.CASCADE)


class IntakeRun(models.Model):
    """One intake job (a command, an upload or an API push): its progress, counts and rejections.

    Progress is written as the job goes, so a page (or the console) can draw a bar while a Celery worker
    does the work.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        DONE_WITH_REJECTS = "rejects", "Done, with rejections"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="runs")
    requested_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    format = models.CharField(max_length=20, default="auto")
    files = models.JSONField(default=list, help_text="Names of the files (or 'api') in this run.")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    problems = models.JSONField(default=list, help_text="[{file, where, reason}], at most 1,000 kept.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Intake {self.pk} into {self.source}: {self.get_status_display()}"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        return Q(source__owner_agency_id=membership.agency_id)

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.finished_at else 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class Message(models.Model):
    """A business message as received (a PAXLST message, a PNR, a declaration, a waybill).

    ``message_key`` makes intake idempotent: the same message sent twice is stored once. Versions of the
    same business object (a PNR update, a declaration amendment) share ``business_key``; the newest one
    is current and the earlier ones are kept, superseded, for history.
    """

    class Function(models.TextChoices):
        ORIGINAL = "original", "Original"
        UPDATE = "update", "Update"
        AMENDMENT = "amendment", "Amendment"
        CANCELLATION = "cancellation", "Cancellation"

    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="messages")
    run = models.ForeignKey(
        IntakeRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    format = models.CharField(max_length=20)
    message_key = models.CharField(max_length=200)
    business_key = models.CharField(max_length=200, db_index=True)
    version_key = models.CharField(max_length=100, blank=True)
    function = models.CharField(max_length=15, choices=Function.choices, default=Function.ORIGINAL)
    file_name = models.CharField(max_length=300, blank=True)
    filtered_fields = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "message_key"], name="message_once_per_source"),
        ]

    def __str__(self) -> str:
        return f"{self.format} {self.business_key} ({self.function})"


class SubjectKind(models.TextChoices):
    CONSIGNMENT = "consignment", "Consignment"
    TRAVELLER = "traveller", "Traveller"
    CONVEYANCE = "conveyance", "Conveyance"
    TRADER = "trader", "Trader"


class Subject(models.Model):
    """Anything assessed: a consignment (declaration, waybill), a traveller, a conveyance or a trader.

    One table for every kind keeps scoping, assessment, targeting and reporting uniform. ``facts`` holds
    the normalised, flat fields that rules and the model read (``hs_code``, ``origin_country``,
    ``value_per_kg``, ``bags_count``, ``paid_cash``...); ``details`` holds the whole normalised record
    for the subject page. ``external_id`` is the business identity across versions (declaration
    reference, PNR locator + passenger, IMO number, trader EORI); only one version is current.
    """

    class Status(models.TextChoices):
        CURRENT = "current", "Current"
        SUPERSEDED = "superseded", "Superseded"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    # Single-column indexes on source and owner agency would duplicate the composite indexes below,
    # which start with them; every extra index slows bulk intake.
    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="subjects", db_index=False)
    # Denormalised from the source so that scoping is a plain foreign-key filter.
    owner_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="subjects"
    )
    external_id = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CURRENT)
    title = models.CharField(max_length=300)
    port = models.ForeignKey(
        "agencies.Port", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    arrival_at = models.DateTimeField(null=True, blank=True, db_index=True)
    facts = models.JSONField(default=dict)
    details = models.JSONField(default=dict)
    received_at = models.DateTimeField(db_index=True)
    masked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["source", "external_id", "status"], name="subject_identity"),
            models.Index(fields=["kind", "status", "arrival_at"], name="subject_kind_arrival"),
            models.Index(fields=["owner_agency", "kind", "status"], name="subject_scope"),
            # How many declarations an importer already has in the source (``importer_previous_
            # declarations``, asked for each batch of an intake): without it, a count over every
            # consignment of the source, a tenth of the time of a 50,000-declaration intake.
            models.Index(
                F("source"),
                KeyTransform("importer_id", "facts"),
                name="subject_importer",
                condition=Q(kind="consignment"),
            ),
        ]
        constraints = [
            # One current version of each business object (and one trader, one conveyance) per source:
            # ``store_messages`` decides it under a lock; the database refuses a second all the same.
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(status="current"),
                name="subject_one_current_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.title}"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        return Q(owner_agency_id=membership.agency_id) | Q(source_id__in=granted_pks(DataSource, membership))


class SubjectLink(models.Model):
    """A link between two subjects, with why: the same traveller in API and PNR, a co-traveller, the
    importer of a consignment, the flight a passenger is on."""

    class Kind(models.TextChoices):
        SAME_PERSON = "same_person", "Same person"
        CO_TRAVELLER = "co_traveller", "Travels with"
        TRAVELS_ON = "travels_on", "Travels on"
        CARRIED_BY = "carried_by", "Carried by"
        PARTY = "party", "Party"
        SAME_TRADER = "same_trader", "Same trader"

    # Covered by the unique constraint (from_subject, to_subject, kind).
    from_subject = models.ForeignKey(
        Subject, on_delete=models.CASCADE, related_name="links_out", db_index=False
    )
    to_subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_subject", "to_subject", "kind"], name="link_once"),
        ]

    def __str__(self) -> str:
        return f"{self.from_subject_id} {self.kind} {self.to_subject_id}"


class Outcome(models.Model):
    """What an examination of a subject found: recorded on a tablet, or imported as history.

    The learning loop trains on these; reports count them. ``random_control`` marks subjects selected by
    chance, kept apart so that true violation rates can be measured without selection bias.
    """

    class Origin(models.TextChoices):
        IMPORTED = "imported", "Imported history"
        EXAMINATION = "examination", "Examination"

    # Nullable: when a record is erased after its retention, its outcomes stay, without the person.
    subject = models.ForeignKey(
        Subject, on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes"
    )
    origin = models.CharField(max_length=12, choices=Origin.choices)
    finding = models.BooleanField()
    severity = models.PositiveSmallIntegerField(default=0)
    random_control = models.BooleanField(default=False)
    revenue_at_stake = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"Outcome of {self.subject_id}: {'finding' if self.finding else 'no finding'}"


class SubjectKey(models.Model):
    """A keyed hash of an identifier of a subject (document, name + date of birth, trader id, MRN).

    Links the same person or trader across sources with an indexed equality join, and keeps working
    after the subject's personal fields are masked, since the hash reveals nothing by itself.
    """

    # Lookups by subject use the unique constraint (subject, key), which starts with it. The key gets a
    # plain index only: keys are hashes, compared for equality and never by prefix, so the extra
    # pattern-matching index a ``db_index`` CharField gets on PostgreSQL would be pure cost. Hash keys
    # land at random places in their index, which makes every index on them the dearest part of a bulk
    # load once the index outgrows the cache. No foreign-key constraint in the database (as for the
    # blocking keys, ``entities.BlockKey``): PostgreSQL checked each key's subject again at commit, two or
    # three a traveller, a quarter of the commit's time in a bulk intake. Keys are written only for
    # subjects just inserted (intake, in the same transaction) or read from the table (migrations);
    # Django's collector deletes them with their subject, and retention deletes them first; a key whose
    # subject is gone leads nowhere, since every lookup goes on through the subjects.
    subject = models.ForeignKey(
        Subject, on_delete=models.CASCADE, related_name="keys", db_index=False, db_constraint=False
    )
    key = models.CharField(max_length=48)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "key"], name="subject_key_once")]
        indexes = [models.Index(fields=["key"], name="subject_key_value")]

    def __str__(self) -> str:
        return self.key
