from __future__ import annotations

import datetime as dt

from django import forms

from apps.core.forms import IsoDateField


class DataRequestForm(forms.Form):
    """Who the request goes to, and by when the carrier must send what is missing."""

    contact_name = forms.CharField(max_length=200, label="Carrier's name")
    contact_email = forms.EmailField(label="Data contact's e-mail")
    due_by = IsoDateField(label="Send the data by")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Note (optional)")

    @staticmethod
    def default_due(today: dt.date) -> dt.date:
        return today + dt.timedelta(days=3)
