"""Error pages are the application's own: styled, with a way home, and telling an outsider nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.targeting.factories import SubjectFactory

pytestmark = pytest.mark.django_db


def test_another_agencys_target_and_a_missing_one_get_the_same_404_page(world, outsider, client_for):
    from apps.targeting import services as targeting

    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a, title="MV Secret Cargo")
    target = targeting.nominate_target(
        actor=None, subject=subject, risk_area="narcotics", reasons=["tip-off"], by_engine=True
    )
    client = client_for(outsider)
    hidden = client.get(reverse("targeting:detail", args=[target.pk]))
    missing = client.get(reverse("targeting:detail", args=[target.pk + 1000]))
    assert hidden.status_code == missing.status_code == 404
    assert b'data-testid="error"' in hidden.content and b"app.css" in hidden.content
    strip = re.compile(rb'"X-CSRFToken": "[^"]*"|name="csrfmiddlewaretoken" value="[^"]*"')
    assert strip.sub(b"", hidden.content) == strip.sub(b"", missing.content)
    assert b"Secret" not in hidden.content and not re.search(rb"\bCUS\b|Customs", hidden.content)


def test_a_role_without_reports_is_told_why(world, police_liaison, client_for):
    page = client_for(police_liaison).get(reverse("reports:home"))
    assert page.status_code == 403
    assert b"Not allowed" in page.content and b"report.view" in page.content
    assert b"app.css" in page.content


def test_a_server_error_shows_the_application_page_without_a_request_context(rf):
    # Django's own handler, as it runs after an unhandled exception: no context processors, no user.
    from django.views.defaults import server_error

    page = server_error(rf.get("/"))
    assert page.status_code == 500
    assert b"Something went wrong" in page.content and b"app.css" in page.content
