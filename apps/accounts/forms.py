from django import forms


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app, or (when verifying) an eight-character recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True, "size": 12}
        ),
    )
