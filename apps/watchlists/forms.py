"""Forms of the watchlist pages; they only validate input, the services do the work."""

from __future__ import annotations

from django import forms

from apps.core.forms import MultipleFileField
from apps.watchlists.models import EntryKind, HandlingCode, Watchlist


class WatchlistForm(forms.ModelForm):
    false_hit_rate = forms.FloatField(
        required=False,
        initial=0.001,
        min_value=0.00001,
        max_value=0.1,
        label="False-hit rate",
        help_text="Share of ordinary travellers a match may flag (0.001 is 0.1 %); the threshold keeps to it.",
    )

    def clean_false_hit_rate(self) -> float:
        return self.cleaned_data.get("false_hit_rate") or 0.001

    class Meta:
        model = Watchlist
        fields = ["name", "description", "default_handling", "risk_area", "weight", "false_hit_rate"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ImportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            ("un", "UN consolidated list (XML)"),
            ("ofac", "OFAC SDN (sdn.csv, alt.csv, add.csv together)"),
            ("csv", "Generic CSV (id, name, aliases, date_of_birth, nationality…)"),
        ]
    )
    # A declared field named files (collected by the form's metaclass); the stubs read BaseForm.files.
    files = MultipleFileField(help_text="One file; for OFAC select its three CSV files at once.")  # type: ignore[assignment]
    deactivate_missing = forms.BooleanField(
        required=False,
        initial=True,
        label="This is the whole list",
        help_text="Entries not in the file are deactivated (never deleted).",
    )


class EntryControlForm(forms.Form):
    """The owner's decisions on an entry: handling, expiry, whether it is screened at all."""

    handling_code = forms.ChoiceField(
        choices=[("", "The list's default"), *HandlingCode.choices], required=False, label="Handling"
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Not screened from this day.",
    )
    active = forms.BooleanField(required=False, help_text="Inactive entries are kept but never screened.")


class ScreenForm(forms.Form):
    name = forms.CharField(max_length=300)
    date_of_birth = forms.CharField(
        max_length=30, required=False, help_text="YYYY-MM-DD, YYYY or 12 Jan 1960"
    )
    nationality = forms.CharField(max_length=60, required=False, help_text="ISO code or country name")
    document = forms.CharField(max_length=60, required=False, label="Document number")
    kind = forms.ChoiceField(choices=[("", "Any kind"), *EntryKind.choices], required=False)


class RulingForm(forms.Form):
    """Ruling one hit: the service names a ruling it does not know, and when a reason is needed."""

    ruling = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)
