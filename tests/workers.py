"""Parallel test workers (pytest-xdist) keep apart in Redis, as two installations on one Redis would.

Loaded with ``-p tests.workers`` (``pyproject.toml``), before pytest-django reads the settings: each
worker gets its own ``RATC_REDIS_PREFIX``, so its events, cache keys and task queues, and those of the
Daphne servers its browser tests start (they inherit the environment), never reach the other worker.
Each worker's PostgreSQL test database is already its own (pytest-django suffixes the name).
"""

from __future__ import annotations

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["RATC_REDIS_PREFIX"] = f"{os.environ.get('RATC_REDIS_PREFIX', 'ratc')}-test-{_worker}"
