"""Forms of the entity pages."""

from __future__ import annotations

from django import forms


class LinkDecisionForm(forms.Form):
    """Confirm or split a link (the service names a decision it does not know) and the way back."""

    decision = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)
    back = forms.CharField(required=False)

    def back_url(self) -> str:
        """``back`` if it is a path on this site (never another host)."""
        back = self.cleaned_data.get("back") or ""
        return back if back.startswith("/") and not back.startswith("//") else ""
