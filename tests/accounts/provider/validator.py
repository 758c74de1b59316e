"""The provider's claims: username, e-mail, group names and how the person authenticated (``amr``)."""

from oauth2_provider.oauth2_validators import OAuth2Validator

#: Members of this provider group passed the provider's own MFA (a stand-in for its MFA policy).
MFA_GROUP = "mfa-enrolled"


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None  # every claim below goes into the ID token and userinfo

    def get_additional_claims(self, request):
        user = request.user
        groups = sorted(user.groups.values_list("name", flat=True))
        return {
            "preferred_username": user.username,
            "email": user.email,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": [g for g in groups if g != MFA_GROUP],
            "amr": ["pwd", "mfa"] if MFA_GROUP in groups else ["pwd"],
        }
