"""Forms of the risk pages: they read input; the services validate the meaning and store it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from apps.agencies.models import Port
from apps.core.forms import IsoDateField, choice_field, model_choices
from apps.intake.models import SubjectKind
from apps.risk.models import Rule, RuleVersion, risk_area_choices


class RuleMoveForm(forms.Form):
    """A lifecycle button of a rule: the reason kept in its history (the service says when it is needed)."""

    reason = forms.CharField(required=False)


class ParseForm(forms.Form):
    """The editor's live preview: the condition as typed, and the kind of subject it is about."""

    text = forms.CharField(required=False, strip=False)
    subject_kind = forms.CharField(required=False)


class RuleForm(forms.Form):
    """A rule and the wording of its next version (the condition in the text syntax)."""

    name = forms.CharField(max_length=200)
    subject_kind = forms.ChoiceField(choices=SubjectKind.choices, label="Subjects")
    risk_area = forms.ChoiceField(choices=())
    weight = forms.IntegerField(min_value=1, max_value=100, initial=50, help_text="Points out of 100.")
    text = forms.CharField(
        label="Condition",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "rk-code"}),
        help_text='For example: hs_code prefix "0901" and origin_country in ("CO", "PE")',
    )
    ports = forms.ModelMultipleChoiceField(
        queryset=Port.objects.all(), required=False, to_field_name="locode",
        help_text="None selected: national.", widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    valid_from = IsoDateField(required=False)
    valid_to = IsoDateField(required=False)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    officer_text = forms.CharField(
        max_length=300,
        required=False,
        label="Plain words for those who may not read the rule",
        help_text="What a partner agency's analyst and the dispatcher read when the rule fires — never the "
        "condition or a watched identifier. Empty: “Matches the targeting profile <name>”. The officer at "
        "the port reads no reasons, only the instruction the dispatcher sends.",
    )
    note = forms.CharField(max_length=300, required=False, label="What changes in this version")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "risk_area").choices = risk_area_choices()

    @classmethod
    def initial_for(cls, rule: Rule, version: RuleVersion | None) -> dict[str, Any]:
        if version is None:  # not for a stored rule (saving one writes its first version)
            return {"name": rule.name, "officer_text": rule.officer_text}
        return {
            "name": rule.name,
            "officer_text": rule.officer_text,
            "subject_kind": version.subject_kind,
            "risk_area": version.risk_area,
            "weight": version.weight,
            "text": version.text,
            "ports": version.ports,
            "valid_from": version.valid_from,
            "valid_to": version.valid_to,
            "rationale": version.rationale,
        }

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["ports"] = [p.locode for p in data["ports"]]
        return data


class BacktestForm(forms.Form):
    """What to backtest: a rule's latest version over a period, against its running version or another."""

    rule = forms.ModelChoiceField(queryset=Rule.objects.none())
    period_start = IsoDateField()
    period_end = IsoDateField()
    compare_rule = forms.ModelChoiceField(
        queryset=Rule.objects.none(), required=False, label="Compare with",
        empty_label="The version it replaces (if any)",
    )  # fmt: skip

    def __init__(self, *args: Any, rules: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choices(self, "rule").queryset = rules
        model_choices(self, "compare_rule").queryset = rules.filter(live_version__isnull=False)
        today = dt.date.today()
        self.fields["period_start"].initial = today - dt.timedelta(days=90)
        self.fields["period_end"].initial = today
