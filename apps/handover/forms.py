"""Forms of the handover pages: one per action. The services check the desk, the role and the words."""

from __future__ import annotations

from typing import Any

from django import forms


class PrepareForm(forms.Form):
    """A desk of the person's (``services.desks_for``) and the shift's day; the shift itself is checked by
    the service."""

    desk = forms.ChoiceField(choices=())
    shift_date = forms.DateField(input_formats=["%Y-%m-%d"])
    shift = forms.CharField(required=False)

    def __init__(self, *args: Any, desks: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.desks = desks
        self.fields["desk"].choices = [(key, key) for key in desks]  # type: ignore[attr-defined]

    def clean_desk(self) -> Any:
        return self.desks[self.cleaned_data["desk"]]


class ItemForm(forms.Form):
    text = forms.CharField(required=False, strip=False)
    target = forms.CharField(required=False)  # an id among the targets the person sees, or nothing


class CloseItemForm(forms.Form):
    resolution = forms.CharField(required=False, strip=False)


class SubmitForm(forms.Form):
    notes = forms.CharField(required=False, strip=False)


class AcknowledgeForm(forms.Form):
    note = forms.CharField(required=False, strip=False)


__all__ = ["AcknowledgeForm", "CloseItemForm", "ItemForm", "PrepareForm", "SubmitForm"]
