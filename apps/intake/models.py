"""Data sources: who owns each feed, on what legal basis, how long it is kept and who may see it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.validators import MinValueValidator
from django.db import models
from guardian.models import GroupObjectPermissionBase

from apps.agencies.scoping import AgencyOwned


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
