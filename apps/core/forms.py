"""Form pieces shared by several apps."""

from __future__ import annotations

from django import forms


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
