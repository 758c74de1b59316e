"""A risk manager writes a rule in the browser with live feedback, publishes it, backtests it, and reads
an assessment. Screenshots go to artifacts/screenshots/risk-*.png."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model

from apps.agencies.models import Port
from apps.core.demo import DEMO_PASSWORD, ensure_demo_world
from apps.intake.models import DataSource, Outcome, Subject
from apps.risk import services
from apps.risk.models import Assessment, RiskSettings
from tests.browser.conftest import sign_in

# Without Chromium the plugin tests.browser_support skips these (fails them with RATC_REQUIRE_BROWSER=1).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def demo(live_server, settings):
    settings.RATC_DEMO = True
    ensure_demo_world()
    RiskSettings.objects.create(random_control_share=0.0)
    return live_server.url


def _history() -> list[Subject]:
    """A month of declarations at three ports, some with examination results."""
    source = DataSource.objects.get(name="Import declarations")
    ports = list(Port.objects.filter(locode__in=["GBFXT", "GBLHR", "GBDVR"]))
    rng = random.Random(4)
    made = []
    for i in range(240):
        origin = rng.choice(["CO", "PE", "NL", "CN", "BR", "US"])
        hs = rng.choice(["09011100", "09012100", "22030001", "85171200", "61091000"])
        value, mass = rng.randint(500, 90_000), rng.randint(50, 20_000)
        subject = Subject.objects.create(
            kind="consignment",
            source=source,
            owner_agency_id=source.owner_agency_id,
            external_id=f"DEC-{i}",
            title=f"Declaration 25GB{i:06d}",
            port=rng.choice(ports),
            arrival_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randint(0, 30 * 24)),
            received_at=dt.datetime(2025, 2, 27, tzinfo=dt.UTC),
            facts={
                "hs_code": hs,
                "origin_country": origin,
                "declared_value": value,
                "net_mass_kg": mass,
                "goods_description": "coffee" if hs.startswith("0901") else "goods",
                "importer_previous_declarations": rng.choice([0, 3, 40]),
                "route_countries": [origin, "PA"],
            },
        )
        if i % 3 == 0:
            finding = hs.startswith("0901") and origin in {"CO", "PE"} and rng.random() < 0.5
            Outcome.objects.create(
                subject=subject,
                origin="imported",
                finding=finding or rng.random() < 0.05,
                random_control=i % 9 == 0,
                recorded_at=subject.arrival_at,
            )
        made.append(subject)
    return made


def _off_the_browser_thread(fn):
    """Run ``fn`` in another thread: services publish live events with ``async_to_sync``, which cannot run
    in the thread where Playwright's event loop lives."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def _setup() -> list[Subject]:
    subjects = _history()
    manager = get_user_model().objects.get(username="riskmanager")
    old = services.create_rule(
        actor=manager,
        name="Coffee from South America",
        subject_kind="consignment",
        risk_area="narcotics",
        weight=65,
        text='hs_code prefix "0901"',
        rationale="Cocaine concealed in coffee, 2024 seizures.",
        ports=[],
    )
    services.publish_rule_to_shadow(actor=manager, rule=old)
    services.activate_rule(actor=manager, rule=old, reason="Shadow hits looked right")
    services.create_rule(
        actor=manager,
        name="Undervalued textiles",
        subject_kind="consignment",
        risk_area="revenue",
        weight=40,
        text='hs_chapter = "61" and value_per_kg < 5',
        rationale="Valuation fraud.",
        ports=["GBFXT"],
    )
    return subjects


def test_risk_manager_writes_publishes_and_backtests_a_rule(demo, new_page, screenshot):
    subjects = _off_the_browser_thread(_setup)
    page = new_page()
    sign_in(page, demo, "riskmanager", DEMO_PASSWORD)
    page.goto(f"{demo}/risk/rules/")
    assert page.locator("text=Coffee from South America").is_visible()
    screenshot(page, "risk-rules")

    page.goto(f"{demo}/risk/rules/new/")
    page.fill("#id_name", "First-time importers of Andean coffee")
    page.fill("#id_text", 'hs_code prefix "0901" and origin_country in ("CO", "PE") andd')
    page.wait_for_selector(".rk-parse-error")
    assert "column" in page.locator(".rk-parse-error").inner_text()
    screenshot(page, "risk-editor-error")
    page.fill(
        "#id_text", 'hs_code prefix "0901" and origin_country in ("CO", "PE") and first_time_importer = true'
    )
    page.wait_for_selector(".rk-parse-ok")
    page.select_option("#id_risk_area", "narcotics")
    page.fill("#id_weight", "75")
    page.fill("#id_rationale", "Intelligence: new importers used as fronts for cocaine in coffee.")
    screenshot(page, "risk-editor")
    page.click("text=Save as draft")
    page.wait_for_selector("text=saved as a draft")
    page.click("text=Publish v1 to shadow")
    page.wait_for_selector("text=The rule is now shadow")
    screenshot(page, "risk-rule-detail")

    page.click("text=Backtest")
    page.fill("#id_period_start", "2025-03-01")
    page.fill("#id_period_end", "2025-03-31")
    page.select_option("#id_compare_rule", label="Coffee from South America")
    page.click("text=Run backtest")
    page.wait_for_selector("text=What it would have done")
    screenshot(page, "risk-backtest")

    _off_the_browser_thread(lambda: services.assess_subjects([s.pk for s in subjects[:40]]))
    assessment = Assessment.objects.filter(score__gt=0).order_by("-score").first()
    page.goto(f"{demo}/risk/assessments/{assessment.pk}/")
    # An assessment names its subject: the purpose of access is asked first, once per session.
    page.check("input[value=risk_analysis]")
    page.click("text=Continue")
    page.wait_for_selector("text=How the score was made")
    screenshot(page, "risk-assessment")
    page.goto(f"{demo}/risk/lab/")
    screenshot(page, "risk-lab")
