"""``{% sso_button %}`` on the sign-in page: shown only when single sign-on is configured."""

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("accounts/_sso_button.html", takes_context=True)
def sso_button(context: dict) -> dict:
    return {
        "enabled": settings.RATC_OIDC_ENABLED,
        "provider": settings.RATC_OIDC_PROVIDER_NAME,
        "next": context.get("next", ""),
    }
