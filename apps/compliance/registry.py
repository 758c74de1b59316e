"""Which models are hash-chained: every concrete subclass of ``HashChained``."""

from django.apps import apps

from apps.compliance.chain import HashChained


def chained_models() -> list[type[HashChained]]:
    return [m for m in apps.get_models() if issubclass(m, HashChained)]
