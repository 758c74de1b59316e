from django import forms

from apps.agencies.operations import membership_of
from apps.core.forms import MultipleFileField, model_choices
from apps.intake.models import DataSource
from apps.intake.services import FORMATS


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=DataSource.objects.none(), help_text="Where the records go.")
    format = forms.ChoiceField(
        choices=[(f, "Detect from the file" if f == "auto" else f) for f in FORMATS], initial="auto"
    )
    # A declared field named files (collected by the form's metaclass); the stubs read BaseForm.files.
    files = MultipleFileField(  # type: ignore[assignment]
        help_text="PAXLST, PNRGOV, WCO DEC XML, Cargo-XML, CSV or JSON declarations, trader registers (CSV, JSON); several at once."
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        membership = membership_of(user)
        # Only the sources the user's agency owns: loading data is the owner's act.
        model_choices(self, "source").queryset = (
            DataSource.objects.visible_to(user).filter(owner_agency_id=membership.agency_id)
            if membership
            else DataSource.objects.none()
        )
