"""A risk manager looks at the model pages in Chromium: versions, a version's metrics and drift, training."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.agencies.roles import Role
from apps.learning import services
from apps.learning.models import DriftCheck, TrainingRun
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, DataSourceFactory, member
from tests.learning.helpers import ingest_new, ingest_train, trained_version

# Without Chromium the plugin tests.browser_support skips these (fails them with RATC_REQUIRE_BROWSER=1).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_risk_manager_sees_versions_metrics_drift_and_training(
    live_server, world, tmp_path, new_page, screenshot
):
    manager = member("rita", world.customs, Role.RISK_MANAGER)
    source = DataSourceFactory(name="Import declarations", owner_agency=world.customs)
    ingest_train(source, tmp_path)
    first = trained_version(source, manager)
    second = trained_version(source, manager, activate=False)
    services.activate_version(actor=manager, version=second)
    ingest_new(source, tmp_path)
    services.load_model(second).info["drift_reference"]["scores"] = [0.95] * 400  # shows the warning
    services.run_drift_check(second)
    assert DriftCheck.objects.get().warning
    running = TrainingRun.objects.create(
        owner_agency=world.customs,
        status="running",
        progress=0.46,
        message="Training trees (250)",
        requested_by=manager,
    )
    running.sources.set([source])

    page = new_page()
    sign_in(page, live_server.url, "rita", PASSWORD)
    page.goto(f"{live_server.url}/model/")
    assert page.locator("[data-testid=versions] tbody tr").count() == 2
    screenshot(page, "learning-models")
    page.locator("a", has_text="v2").first.click()
    # The click starts a navigation; expect() waits for the new page, is_visible() would read the old one.
    expect(page.locator("[data-testid=drift-warning]")).to_be_visible()
    expect(page.locator("button", has_text="Roll back to v1")).to_be_visible()
    screenshot(page, "learning-model-detail")
    page.goto(f"{live_server.url}/model/training/{running.pk}/")
    assert page.locator("text=46%").is_visible()
    screenshot(page, "learning-training-run")
    page.goto(f"{live_server.url}/model/versions/{second.pk}/")
    page.locator("button", has_text="Roll back to v1").click()
    page.wait_for_selector("text=Risk model v1 is now active")
    first.refresh_from_db()
    assert first.status == "active"
