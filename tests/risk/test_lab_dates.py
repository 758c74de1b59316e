"""Date fields show their default dates, and a form sent as it is shown goes through.

A browser drops the value of an ``<input type="date">`` that is not written YYYY-MM-DD: the field shows
empty and the form submits nothing for it. These tests read a page as a browser would (the values of its
inputs, an invalid date value dropped) and send it back.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from apps.risk.forms import BacktestForm, RuleForm
from apps.risk.models import Backtest, Rule
from tests.risk.conftest import write_rule

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BrowserForm(HTMLParser):
    """What a browser would submit from each ``<form method="post">`` of a page (inputs and selects)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, dict[str, str]]] = []
        self._form: dict[str, dict[str, str]] | None = None
        self._select: str | None = None
        self._select_first: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = {"values": {}, "dates": {}}
            self.forms.append(self._form)
        if self._form is None:
            return
        values = self._form["values"]
        if tag == "input" and a.get("name"):
            value = a.get("value", "")
            if a.get("type") == "date":
                self._form["dates"][a["name"]] = value
                value = value if ISO.match(value) else ""  # the HTML value sanitisation of type=date
            if a.get("type") not in {"checkbox", "radio", "submit"}:
                values[a["name"]] = value
        elif tag == "select":
            self._select, self._select_first = a.get("name"), None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select and self._form is not None:
            self._form["values"].setdefault(self._select, self._select_first or "")
            self._select = None
        elif tag == "form":
            self._form = None

    @property
    def values(self) -> dict[str, str]:
        """The values the form with date fields would send."""
        return next(f["values"] for f in self.forms if f["dates"])

    @property
    def date_inputs(self) -> dict[str, str]:
        """The date inputs' values as written in the page."""
        return next((f["dates"] for f in self.forms if f["dates"]), {})


def read_form(html: str) -> BrowserForm:
    form = BrowserForm()
    form.feed(html)
    return form


def test_every_date_widget_of_the_risk_forms_writes_iso_dates():
    day = dt.date(2026, 4, 9)
    rule_form = RuleForm(initial={"valid_from": day, "valid_to": day})
    for name in ("valid_from", "valid_to"):
        html = str(rule_form[name])
        assert 'type="date"' in html and 'value="2026-04-09"' in html, html
    lab_form = BacktestForm(rules=Rule.objects.none(), initial={"period_start": day})
    assert 'value="2026-04-09"' in str(lab_form["period_start"])


@pytest.mark.django_db
def test_the_lab_shows_its_default_period_and_a_run_with_it_starts(
    client_for, risk_manager, django_capture_on_commit_callbacks
):
    rule = write_rule(risk_manager, 'hs_code prefix "0901"')
    client = client_for(risk_manager)
    page = client.get(reverse("risk:lab"), {"rule": rule.pk}).content.decode()
    form = read_form(page)
    today = dt.date.today()
    assert form.date_inputs == {
        "period_start": (today - dt.timedelta(days=90)).isoformat(),
        "period_end": today.isoformat(),
    }
    assert form.values["rule"] == str(rule.pk)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("risk:lab"), form.values)
    assert response.status_code == 302, response.content.decode()[:2000]
    backtest = Backtest.objects.get()
    assert (backtest.period_start, backtest.period_end) == (today - dt.timedelta(days=90), today)


@pytest.mark.django_db
def test_the_rule_editor_keeps_a_rules_validity_dates(client_for, risk_manager):
    rule = write_rule(
        risk_manager, 'hs_code prefix "0901"', valid_from=dt.date(2026, 4, 9), valid_to=dt.date(2026, 12, 31)
    )
    page = client_for(risk_manager).get(reverse("risk:rule_edit", args=[rule.pk])).content.decode()
    assert read_form(page).date_inputs == {"valid_from": "2026-04-09", "valid_to": "2026-12-31"}


# --------------------------------------------------------------------------- the rule editor's words


@pytest.mark.django_db
def test_rule_errors_name_their_field_in_words(risk_manager):
    """Errors reach the API and the lifecycle banner, where no field is beside them: each one names it."""
    from django.core.exceptions import ValidationError

    from apps.risk import services

    with pytest.raises(ValidationError) as caught:
        services.create_rule(
            actor=risk_manager, name="Coffee", text='hs_code prefix "0901"', subject_kind="consignment",
            risk_area="", weight=0, ports=["XXNOP"], rationale=" ",
            valid_from=dt.date(2026, 5, 1), valid_to=dt.date(2026, 4, 1),
        )  # fmt: skip
    errors = {field: messages[0] for field, messages in caught.value.message_dict.items()}
    assert errors["risk_area"].startswith("Risk area: choose") and "Narcotics" in errors["risk_area"]
    assert "''" not in errors["risk_area"]
    assert errors["weight"] == "Weight: give a whole number of points from 1 to 100."
    assert errors["ports"].startswith("Ports: no port has the code XXNOP")
    assert errors["rationale"].startswith("Rationale: say why")
    assert (
        errors["valid_to"] == "Valid to: the end of validity (01 Apr 2026) is before its start (01 May 2026)."
    )
    with pytest.raises(ValidationError) as caught:
        services.create_rule(
            actor=risk_manager, name="Coffee", text='hs_code prefix "0901"', subject_kind="", risk_area="ipr",
            weight=50, rationale="Why",
        )  # fmt: skip
    assert caught.value.message_dict["subject_kind"][0].startswith("Subjects: choose what the rule looks at")
    with pytest.raises(ValidationError) as caught:
        services.create_rule(
            actor=risk_manager, name="Coffee", text="", subject_kind="consignment", risk_area="nonsense",
            weight=50, rationale="Why",
        )  # fmt: skip
    assert caught.value.message_dict["text"][0].startswith("Condition: write the condition")


@pytest.mark.django_db
def test_the_rule_list_shows_risk_areas_in_words(client_for, risk_manager):
    write_rule(risk_manager, 'hs_code prefix "6403"', name="Fake trainers", risk_area="ipr")
    page = client_for(risk_manager).get(reverse("risk:rules")).content.decode()
    assert "<td>Intellectual property</td>" in page and "<td>ipr</td>" not in page
