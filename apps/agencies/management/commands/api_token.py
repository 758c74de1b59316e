"""``manage.py api_token create|list|revoke|rotate``: API tokens of system accounts, for operators.

The secret is printed once, by ``create`` and ``rotate``; ``list`` shows names, first characters,
expiry and last use, never a secret.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.agencies import tokens
from apps.agencies.models import ApiToken


class Command(BaseCommand):
    help = "Create, list, rotate or revoke the API tokens of system accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        create = verbs.add_parser("create", help="Make a token; its secret is printed once.")
        create.add_argument("username")
        create.add_argument("name", help="What the token is for, e.g. 'PCS production 2026'.")
        create.add_argument("--days", type=int, default=tokens.DEFAULT_LIFETIME.days)
        listing = verbs.add_parser("list", help="Tokens, their expiry and last use (never a secret).")
        listing.add_argument("username", nargs="?")
        revoke = verbs.add_parser("revoke", help="Revoke a token now: its next request is refused.")
        revoke.add_argument("username")
        revoke.add_argument("name")
        rotate = verbs.add_parser("rotate", help="A new token; the old one works for --overlap-hours more.")
        rotate.add_argument("username")
        rotate.add_argument("name", help="The token to replace.")
        rotate.add_argument("new_name")
        rotate.add_argument(
            "--overlap-hours", type=float, default=tokens.DEFAULT_OVERLAP.total_seconds() / 3600
        )

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        try:
            getattr(self, f"_{verb}")(**options)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account {username!r}.")
        return user

    def _token(self, username: str, name: str) -> ApiToken:
        token = ApiToken.objects.filter(user=self._user(username), name=name).first()
        if token is None:
            raise CommandError(f"{username} has no token named {name!r}.")
        return token

    def _print_secret(self, issued: tokens.Issued) -> None:
        self.stdout.write(issued.secret)
        self.stderr.write(
            f"Token {issued.token.name!r} of {issued.token.user} expires {issued.token.expires_at:%Y-%m-%d %H:%M} "
            "UTC. Copy it now: only its hash is kept."
        )

    def _create(self, username: str, name: str, days: int, **_: Any) -> None:
        issued = tokens.issue(user=self._user(username), name=name, lifetime=timedelta(days=days))
        self._print_secret(issued)

    def _list(self, username: str | None = None, **_: Any) -> None:
        rows = ApiToken.objects.select_related("user")
        if username:
            rows = rows.filter(user=self._user(username))
        for token in rows:
            used = (
                f"{token.last_used_at:%Y-%m-%d %H:%M} from {token.last_used_ip}"
                if token.last_used_at
                else "never"
            )
            self.stdout.write(
                f"{token.user.username}\t{token.name}\t{token.prefix}…\t{token.status}\t"
                f"expires {token.expires_at:%Y-%m-%d %H:%M}\tlast used {used}\t{token.use_count} uses"
            )

    def _revoke(self, username: str, name: str, **_: Any) -> None:
        token = tokens.revoke(self._token(username, name))
        self.stdout.write(
            f"Revoked {token.name!r} of {username} at {token.revoked_at:%Y-%m-%d %H:%M:%S} UTC."
        )

    def _rotate(self, username: str, name: str, new_name: str, overlap_hours: float, **_: Any) -> None:
        issued = tokens.rotate(
            self._token(username, name), name=new_name, overlap=timedelta(hours=overlap_hours)
        )
        self._print_secret(issued)
