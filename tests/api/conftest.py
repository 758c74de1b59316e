"""The API acceptance tests run against the security crawl's seeded world: the demo's agencies, ports and
people, with objects of every kind owned by different agencies (``tests/security/seed.py``)."""

from tests.security.conftest import seeded  # noqa: F401 (the module-scoped world, re-used as a fixture)
