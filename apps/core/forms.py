"""Form pieces shared by several apps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files at once (intake uploads, watchlist imports)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


#: The only format ``<input type="date">`` accepts, in every browser and locale.
ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """A native date picker whose value is always written as YYYY-MM-DD.

    Django writes a date in the locale's first input format (``09/04/2026`` in en-gb); a browser finds
    that invalid for ``type="date"``, shows the field empty and submits nothing, so a default date
    turns into "This field is required". Every date field of the project uses this widget.
    """

    input_type = "date"

    def __init__(self, attrs: dict[str, object] | None = None) -> None:
        super().__init__(attrs, format=ISO_DATE)


class IsoDateField(forms.DateField):
    """A date field drawn as :class:`IsoDateInput` (it still reads the locale's formats, and ISO)."""

    widget = IsoDateInput


class SignInForm(AuthenticationForm):
    """The sign-in page's form: people only. A system account (a port community system, a feed) calls
    the API with a named token; a password it may have never opens the pages."""

    @property
    def refused_as_system(self) -> bool:
        """The password was right, but the account is a system's (the page says so, not "no match")."""
        return self.has_error(NON_FIELD_ERRORS, "system_account")

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        from apps.agencies.operations import membership_of
        from apps.agencies.roles import Role

        membership = membership_of(user)
        if membership is not None and membership.role == Role.SYSTEM:
            raise forms.ValidationError(
                "This is a system account: it uses the API with a token, not these pages.",
                code="system_account",
            )


def model_choices(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's model choice field ``name``, whose queryset a form narrows to what the user may see
    (``form.fields`` is typed as holding plain fields)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's choice field ``name``, whose choices a form fills when it is made."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field
