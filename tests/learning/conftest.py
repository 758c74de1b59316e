"""Fixtures of the learning-loop tests: model files in a temporary MEDIA_ROOT, a risk manager, caches cleared."""

from __future__ import annotations

import pytest

#: Quick training for tests (the defaults are for production-size data).
FAST = {"max_rounds": 150, "early_stopping_rounds": 30, "learning_rate": 0.1}


@pytest.fixture(autouse=True)
def _media_and_caches(settings, tmp_path):
    from apps.learning import dataset, services

    settings.MEDIA_ROOT = tmp_path / "media"
    dataset.clear_cache()
    services._MODELS.clear()
    yield
    dataset.clear_cache()
    services._MODELS.clear()
