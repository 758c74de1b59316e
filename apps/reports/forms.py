"""The report's filter form: period and slicing, with choices limited to what the viewer may see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.forms.models import ModelChoiceIterator
from django.utils import timezone

from apps.agencies.models import Agency, Port
from apps.agencies.operations import membership_of
from apps.agencies.roles import Role
from apps.core.forms import IsoDateField, model_choices
from apps.reports.models import ReviewOutcome
from apps.reports.slicing import Slice, optional_model
from apps.targeting.models import RiskArea

CHANNELS = [
    ("green", "Green (release)"),
    ("yellow", "Yellow (documents)"),
    ("red", "Red (physical)"),
    ("blue", "Blue (post-clearance audit)"),
]
MAX_DAYS = 366 * 3
#: No report reaches before this day; it also keeps period arithmetic away from ``date.min``.
FIRST_DAY = date(2000, 1, 1)


def _of_agency(membership: Any, **lookups: Any) -> Any:
    """The people with a membership of the given agency matching ``lookups`` (one filter: the same
    membership row); for someone without an agency, those whose membership has none."""
    if membership is None:
        lookups["membership__agency__isnull"] = True
    else:
        lookups["membership__agency_id"] = membership.agency_id
    return get_user_model().objects.filter(**lookups)


class _ListedChoices(ModelChoiceIterator):
    """The choices read with one plain query: iterating ``queryset.iterator()`` (Django's default)
    opens a server-side cursor, three round trips for a list of a few dozen rows on every page."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class _Choice(forms.ModelChoiceField):
    iterator = _ListedChoices


class _UsernameChoice(_Choice):
    """People by their user name (an officer in the slice's filter)."""

    def label_from_instance(self, obj: Any) -> str:
        return obj.username


class _ColleagueChoice(forms.ModelChoiceField):
    """People by name and the address the report goes to."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_full_name() or obj.username} <{obj.email}>"


class SliceForm(forms.Form):
    """Period and narrowing of a report. Invalid or missing values fall back to the last 30 days."""

    start = IsoDateField(required=False)
    end = IsoDateField(required=False)
    port = _Choice(queryset=Port.objects.none(), required=False, empty_label="All ports")
    agency = _Choice(queryset=Agency.objects.none(), required=False, empty_label="All agencies")
    risk_area = forms.ChoiceField(choices=[("", "All risk areas"), *RiskArea.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "All channels"), *CHANNELS], required=False)
    officer = _UsernameChoice(
        queryset=get_user_model().objects.none(), required=False, empty_label="All officers"
    )
    rule: forms.ModelChoiceField[Any] = _Choice(queryset=None, required=False, empty_label="All rules")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # The fields show the period the page falls back to, so "Show" keeps it instead of emptying it.
        default = Slice.last_days(30)
        self.fields["start"].initial, self.fields["end"].initial = default.start, default.end
        membership = membership_of(user)
        model_choices(self, "port").queryset = Port.objects.visible_to(user)
        model_choices(self, "agency").queryset = Agency.objects.visible_to(user)
        model_choices(self, "officer").queryset = _of_agency(
            membership, membership__role=Role.FRONTLINE
        ).order_by("username")
        rule = optional_model("risk", "Rule")
        if rule is not None:
            model_choices(self, "rule").queryset = rule.objects.visible_to(user).order_by("name")
        else:
            del self.fields["rule"]

    def _in_range(self, name: str) -> date | None:
        value = self.cleaned_data.get(name)
        last_day = timezone.now().astimezone(UTC).date() + timedelta(days=366)
        if value is not None and not FIRST_DAY <= value <= last_day:
            raise forms.ValidationError(
                f"Give a date between {FIRST_DAY:%d %b %Y} and {last_day:%d %b %Y}.", code="out_of_range"
            )
        return value

    def clean_start(self) -> date | None:
        return self._in_range("start")

    def clean_end(self) -> date | None:
        return self._in_range("end")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        today = timezone.now().astimezone(UTC).date()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            self.add_error("start", "The period must start on or before its end.")
            start = end
        if (end - start).days > MAX_DAYS:
            self.add_error("start", f"A period is at most {MAX_DAYS} days.")
            start = end - timedelta(days=MAX_DAYS)
        data["start"], data["end"] = start, end
        return data

    def to_slice(self) -> Slice:
        """The slice asked for; with errors, the valid parts (and the last 30 days for a bad period)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        base = Slice.last_days(30)
        start, end = data.get("start") or base.start, data.get("end") or base.end
        labels = {}
        for key in ("port", "agency", "officer", "rule"):
            if data.get(key) is not None:
                labels[key] = getattr(data[key], "username", None) or str(data[key])
        for key, choices in (("risk_area", RiskArea.choices), ("channel", CHANNELS)):
            if data.get(key):
                labels[key] = dict(choices).get(data[key], data[key])
        return Slice(
            start=start,
            end=end,
            port_id=data["port"].pk if data.get("port") else None,
            agency_id=data["agency"].pk if data.get("agency") else None,
            risk_area=data.get("risk_area") or "",
            channel=data.get("channel") or "",
            officer_id=data["officer"].pk if data.get("officer") else None,
            rule_id=data["rule"].pk if data.get("rule") else None,
            labels=labels,
        )


class ReviewForm(forms.Form):
    """The annual review of a rule."""

    reviewed_on = IsoDateField(label="Date of review")
    outcome = forms.ChoiceField(choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=10,
        help_text="Why: what the figures show and what was decided.",
    )


class SubscriptionForm(forms.Form):
    """Add a colleague of the same agency to the weekly report."""

    user = _ColleagueChoice(queryset=get_user_model().objects.none(), label="Colleague")
    port = forms.ModelChoiceField(queryset=Port.objects.none(), required=False, empty_label="All ports")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        membership = membership_of(user)
        roles = [Role.MANAGER, Role.SUPERVISOR, Role.RISK_MANAGER, Role.AUDITOR]
        model_choices(self, "user").queryset = (
            _of_agency(membership, membership__role__in=roles, is_active=True)
            .exclude(email="")
            .order_by("username")
        )
        model_choices(self, "port").queryset = Port.objects.visible_to(user)
