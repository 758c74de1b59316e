from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in as governments do it: single sign-on (OpenID Connect) and a second factor (TOTP)."""

    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from apps.accounts import checks  # noqa: F401  (registers the configuration check)
