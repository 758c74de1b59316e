"""The training floor's one form: a trainer starts an exercise."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet


class StartExerciseForm(forms.Form):
    """Which scenario, how fast, for whom (every analyst and supervisor of the agency when none is picked).

    The scenario is checked by the service, which names the line of a broken scenario file; here only
    its key is required.
    """

    scenario = forms.CharField(max_length=200)
    speed = forms.FloatField(required=False, min_value=1, max_value=3600)
    trainees: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=None, required=False
    )

    def __init__(self, *args: Any, trainees: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the trainer's own agency's people may be picked: anyone else is an invalid choice.
        self.fields["trainees"].queryset = trainees  # type: ignore[attr-defined]
