"""Who a person is at the identity provider, and the provider's word that they passed a second factor."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_otp.models import Device


class SsoIdentity(models.Model):
    """Links a local user to one subject (``sub``) of one issuer (``iss``).

    People are found by this pair, never by e-mail or username: both can be reassigned at the provider,
    the subject cannot, so a reused address never opens someone else's account.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    groups = models.JSONField(default=list, blank=True, help_text="The groups named at the last sign-in.")
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")]
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"

    def __str__(self) -> str:
        return f"{self.user} ({self.subject} at {self.issuer})"


class ProviderMfaDevice(Device):
    """Stands for "the identity provider asserted MFA at this sign-in" (its ``amr``/``acr``).

    django-otp marks a session verified by the device that verified it; this one is bound to the
    session only by the SSO callback after the provider's assertion, and accepts no typed code.
    """

    class Meta:
        verbose_name = "identity provider MFA"

    def verify_token(self, token: str) -> bool:
        return False
