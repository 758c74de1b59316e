"""Forms of the oversight pages. Text only: the services check the meaning (``set_purpose`` knows the
purposes and when a case reference is needed, ``request_unmask`` and ``decide_unmask`` the reasons)."""

from __future__ import annotations

from django import forms


class PurposeForm(forms.Form):
    purpose = forms.CharField(required=False)
    text = forms.CharField(required=False, strip=False)


class UnmaskRequestForm(forms.Form):
    reason = forms.CharField(required=False, strip=False)


class UnmaskDecisionForm(forms.Form):
    """An authorising officer's decision: "approve", anything else refuses."""

    decision = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)

    def approves(self) -> bool:
        return self.cleaned_data["decision"] == "approve"
