"""Forms of the learning pages."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.core.forms import model_choices
from apps.intake.models import DataSource
from apps.learning.services import trainable_sources


class TrainingForm(forms.Form):
    """Start training: which of the agency's sources to learn from, and whether to activate at once."""

    sources = forms.ModelMultipleChoiceField(
        queryset=DataSource.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Declaration sources of your agency whose legal basis allows self-learning models.",
    )
    activate = forms.BooleanField(
        required=False,
        help_text="Activate the new version as soon as it is trained (otherwise it stays a draft).",
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sources = trainable_sources(user)
        model_choices(self, "sources").queryset = sources
        if not self.is_bound:
            self.initial["sources"] = list(sources.values_list("pk", flat=True))
