from django.core.management.base import BaseCommand

from apps.core.demo import DEMO_PASSWORD, DEMO_USERS, ensure_demo_world


class Command(BaseCommand):
    help = "Create the demo world (agencies, ports, capacities, users, sources); safe to run again."

    def handle(self, *args, **options) -> None:
        created = ensure_demo_world()
        self.stdout.write(
            self.style.SUCCESS("Demo world ready " + ", ".join(f"{k}: +{v}" for k, v in created.items()))
        )
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for user in DEMO_USERS:
            self.stdout.write(f"  {user.username:<22} {user.role:<14} {user.agency}  {user.title}")
        self.stdout.write("Open http://127.0.0.1:8000/ and sign in.")
