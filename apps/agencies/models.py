"""Agencies, ports of entry, and the membership that ties a person to one agency with one role."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.roles import Role
from apps.agencies.scoping import ScopedManager, ScopedQuerySet


class ReferenceData(models.Model):
    """Reference data (agencies, ports, capacities) is visible to every member of the floor."""

    objects = ScopedManager()

    class Meta:
        abstract = True

    @classmethod
    def visibility_q(cls, membership) -> Q:
        return Q()


class AgencyKind(models.TextChoices):
    CUSTOMS = "customs", "Customs"
    POLICE = "police", "Police"
    IMMIGRATION = "immigration", "Immigration"
    BORDER_GUARD = "border_guard", "Border guard"
    BIOSECURITY = "biosecurity", "Biosecurity"
    HEALTH = "health", "Health"
    COAST_GUARD = "coast_guard", "Coast guard"
    FOREIGN_PARTNER = "foreign_partner", "Foreign partner administration"


class Agency(ReferenceData):
    """An organisation on the floor. Everything owned or shared is owned by or shared with an agency.

    Each agency has an auth ``Group``: explicit cross-agency grants (django-guardian) are given to that
    group, never to single people, so that a grant follows the agency's staff as they change.
    """

    code = models.SlugField(max_length=20, unique=True, help_text="Short code, e.g. CUS, POL.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AgencyKind.choices)
    country = models.CharField(max_length=2, default="XX", help_text="ISO 3166 alpha-2")
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency", editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.group_id:
            self.group, _ = Group.objects.get_or_create(name=f"agency:{self.code}")
        super().save(*args, **kwargs)


class TransportMode(models.TextChoices):
    SEA = "sea", "Sea"
    AIR = "air", "Air"
    LAND = "land", "Land"
    POSTAL = "postal", "Postal"


class ExaminationMethod(models.TextChoices):
    DOCUMENTS = "documents", "Documentary check"
    SCAN = "scan", "Non-intrusive scan"
    PHYSICAL = "physical", "Physical examination"
    DOG = "dog", "Detector dog"
    INTERVIEW = "interview", "Interview"


class Shift(models.TextChoices):
    EARLY = "early", "Early (06:00-14:00)"
    LATE = "late", "Late (14:00-22:00)"
    NIGHT = "night", "Night (22:00-06:00)"


locode_validator = RegexValidator(
    r"^[A-Z]{2}[A-Z2-9]{3}$", "A UN/LOCODE is 2 letters of country and 3 of place."
)


class Port(ReferenceData):
    """A port of entry where frontline officers examine targets."""

    locode = models.CharField("UN/LOCODE", max_length=5, unique=True, validators=[locode_validator])
    name = models.CharField(max_length=200)
    mode = models.CharField(max_length=10, choices=TransportMode.choices)
    iata_code = models.CharField(max_length=3, blank=True, help_text="For airports: the IATA code.")
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.locode})"


class PortCapacity(ReferenceData):
    """How many examinations of one method a port can do in one shift."""

    port = models.ForeignKey(Port, on_delete=models.CASCADE, related_name="capacities")
    shift = models.CharField(max_length=10, choices=Shift.choices)
    method = models.CharField(max_length=12, choices=ExaminationMethod.choices)
    slots = models.PositiveIntegerField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["port", "shift", "method"]
        constraints = [
            models.UniqueConstraint(fields=["port", "shift", "method"], name="one_capacity_per_shift_method")
        ]
        verbose_name_plural = "port capacities"

    def __str__(self) -> str:
        return f"{self.port.locode} {self.get_shift_display()} {self.get_method_display()}: {self.slots}"


class CapacityDay(ReferenceData):
    """A day's capacity of one method at a port in one shift (the calendar): a public holiday, a scanner
    down for maintenance, a dog team lent to another port. It replaces the weekly default
    (``PortCapacity``) of that method on that date and shift; methods without a day row keep theirs."""

    port = models.ForeignKey(Port, on_delete=models.CASCADE, related_name="capacity_days")
    date = models.DateField()
    shift = models.CharField(max_length=10, choices=Shift.choices)
    method = models.CharField(max_length=12, choices=ExaminationMethod.choices)
    slots = models.PositiveIntegerField(validators=[MinValueValidator(0)])
    note = models.CharField(max_length=200, blank=True, help_text="Why the day differs, shown on dispatch.")

    class Meta:
        ordering = ["-date", "port", "shift", "method"]
        constraints = [
            models.UniqueConstraint(
                fields=["port", "date", "shift", "method"], name="one_capacity_per_day_shift_method"
            )
        ]
        verbose_name = "capacity of a day"
        verbose_name_plural = "capacity calendar"

    def __str__(self) -> str:
        return f"{self.port.locode} {self.date} {self.get_shift_display()} {self.get_method_display()}: {self.slots}"


class Membership(models.Model):
    """A person's place on the floor: one agency, one role and, for port staff, the ports they serve."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    ports = models.ManyToManyField(Port, blank=True, related_name="members")
    # A system account pushes intake only into the sources listed here (none listed: every source its
    # agency may upload into), as a person's ports narrow the targets he sees.
    sources = models.ManyToManyField(
        "intake.DataSource",
        blank=True,
        related_name="+",
        help_text="For system accounts: the data sources it may push intake into (empty: all of its agency's).",
    )
    title = models.CharField(max_length=100, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["agency", "role", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.agency.code}"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        return Q(agency_id=membership.agency_id)

    @property
    def port_codes(self) -> list[str]:
        return [p.locode for p in self.ports.all()]


class OperatingModel(models.TextChoices):
    CENTRALISED = "centralised", "Centralised: national queues and approvals, ports execute"
    DECENTRALISED = "decentralised", "Decentralised: each port targets and approves for itself"
    HYBRID = "hybrid", "Hybrid: national rules and approvals, ports add their own"


class CentreConfiguration(models.Model):
    """The installation's one configuration row: how targeting is organised (BRIEF capability 10).

    Routing of nominations and approvals reads ``operating_model``; changing it here changes routing
    without code.
    """

    operating_model = models.CharField(max_length=15, choices=OperatingModel.choices)
    national_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="The customs administration that runs the national centre.",
    )
    # Four eyes: the person who nominated or submitted a target never approves it. A small port team
    # under the decentralised model may have one supervisor a shift, so each model has its own switch.
    four_eyes_centralised = models.BooleanField(
        default=True, help_text="Centralised model: the approver is never the nominator or the submitter."
    )
    four_eyes_decentralised = models.BooleanField(
        default=True, help_text="Decentralised model: the approver is never the nominator or the submitter."
    )
    four_eyes_hybrid = models.BooleanField(
        default=True, help_text="Hybrid model: the approver is never the nominator or the submitter."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "centre configuration"

    def __str__(self) -> str:
        return f"Operating model: {self.get_operating_model_display()}"

    @property
    def four_eyes(self) -> bool:
        """Whether four eyes apply under the operating model in force."""
        return bool(getattr(self, f"four_eyes_{self.operating_model}", True))

    @classmethod
    def current(cls) -> CentreConfiguration:
        config = cls.objects.select_related("national_agency").first()
        if config is None:
            config = cls.objects.create(operating_model=settings.RATC_OPERATING_MODEL_DEFAULT)
        return config


class ApiTokenQuerySet(ScopedQuerySet):
    def usable(self, now=None) -> ApiTokenQuerySet:
        """Tokens that authenticate now: not revoked and not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ApiToken(models.Model):
    """A named, expiring API token of an account (a system account, typically), stored as a hash.

    The secret is shown once, when the token is made (``apps.agencies.tokens.issue``); the table keeps
    only its SHA-256 and its first characters, so that a copy of the database authenticates nobody. An
    account may hold several tokens at once, so that a new one can be deployed before the old one is
    revoked or expires (rotation with overlap). Every request reads the row afresh: a revoked or expired
    token is refused on the very next request.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'PCS production 2026'.")
    prefix = models.CharField(max_length=16, editable=False, help_text="The token's first characters.")
    digest = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the token.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    use_count = models.PositiveBigIntegerField(default=0)

    objects = models.Manager.from_queryset(ApiTokenQuerySet)()

    class Meta:
        ordering = ["user__username", "-created_at"]
        verbose_name = "API token"
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="one_token_name_per_account")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        """Tokens of the accounts of the member's agency (the admin lists them; nobody reads a secret)."""
        return Q(user__membership__agency_id=membership.agency_id, user__is_superuser=False)

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"
