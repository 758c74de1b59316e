"""The forms of the alert pages: one per action. Ids stay text here: the services look them up within
what the person may see (``get_partner_for``, the subject and watchlist lookups) and say what is wrong."""

from __future__ import annotations

from django import forms


class TurnIntoTargetForm(forms.Form):
    subject = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)


class AttachForm(forms.Form):
    subject = forms.CharField(required=False)


class WatchlistForm(forms.Form):
    watchlist = forms.CharField(required=False)


class ConsentForm(forms.Form):
    note = forms.CharField(required=False, strip=False)


class DismissForm(forms.Form):
    reason = forms.CharField(required=False, strip=False)


class SendTargetForm(forms.Form):
    """Sending a target from the Sent page: its reference ("T-12"), the partner and why."""

    target = forms.CharField(required=False)
    partner = forms.CharField(required=False)
    reason = forms.CharField(required=False)

    def target_pk(self) -> int:
        ref = self.cleaned_data["target"].upper().removeprefix("T-").lstrip("0") or "0"
        return int(ref) if ref.isascii() and ref.isdigit() and int(ref) < 2**63 else 0

    def partner_pk(self) -> int | str:
        value = self.cleaned_data["partner"]
        return value if value.isascii() and value.isdigit() else 0


class SendEntryForm(forms.Form):
    partner = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)

    def partner_pk(self) -> int | str:
        value = self.cleaned_data["partner"]
        return value if value.isascii() and value.isdigit() else 0
