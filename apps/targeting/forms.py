"""The forms of the targeting pages: one per action, each checking its fields before a service runs.

The services still check everything that matters (who may, in which state, which version); a form only
turns the posted strings into values and names the field that is wrong (``apps.core.actions.cleaned``).
Choices that point at a row (a hold, a share, a proposal) are limited to what the person may see.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from apps.agencies.models import Agency, ExaminationMethod, Port, Shift
from apps.core.forms import MultipleFileField
from apps.targeting.models import DispatchProposal, HandlingCode, Hold, Target, TargetShare


class MoveForm(forms.Form):
    """A transition button (approve, reject, withdraw...): the version the person saw and why."""

    version = forms.IntegerField(required=False, min_value=0)
    reason = forms.CharField(required=False)


class DispatchForm(MoveForm):
    """The dispatch box of a target: the method and what the port's officer is told."""

    method = forms.ChoiceField(choices=ExaminationMethod.choices, required=False)
    instruction = forms.CharField(required=False, strip=False)


class HoldForm(forms.Form):
    version = forms.IntegerField(required=False, min_value=0)
    reason = forms.CharField(required=False)


class ReleaseHoldForm(forms.Form):
    hold = forms.ModelChoiceField(
        queryset=Hold.objects.none(), error_messages={"invalid_choice": "No such hold."}
    )
    reason = forms.CharField(required=False)

    def __init__(self, *args: Any, user: User, target: Target, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        holds = Hold.objects.visible_to(user).filter(target=target).select_related("agency", "target")
        self.fields["hold"].queryset = holds  # type: ignore[attr-defined]


class CommentForm(forms.Form):
    body = forms.CharField(required=False, strip=False)
    attachments = MultipleFileField(required=False)
    private = forms.BooleanField(required=False)

    def uploads(self) -> list[Any]:
        return [f for f in self.cleaned_data.get("attachments") or [] if f]


class ShareForm(forms.Form):
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.all(),
        error_messages={
            "required": "Choose an agency to share with.",
            "invalid_choice": "Choose an agency to share with.",
        },
    )
    code = forms.ChoiceField(choices=HandlingCode.choices, required=False)

    def clean_code(self) -> str:
        return self.cleaned_data.get("code") or HandlingCode.SEE


class ConsentForm(forms.Form):
    share = forms.ModelChoiceField(
        queryset=TargetShare.objects.none(), error_messages={"invalid_choice": "No such share."}
    )
    reason = forms.CharField(required=False)

    def __init__(self, *args: Any, target: Target, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["share"].queryset = TargetShare.objects.filter(target=target).select_related("agency")  # type: ignore[attr-defined]


class NominateForm(forms.Form):
    risk_area = forms.CharField(required=False)  # the service names a bad or missing area
    priority = forms.IntegerField(required=False, error_messages={"invalid": "Priority must be a number."})
    reason = forms.CharField(required=False, strip=False)


class ShiftForm(forms.Form):
    """The port, shift and day a dispatch proposal is for (a bad or missing day is today)."""

    port = forms.ModelChoiceField(
        queryset=Port.objects.all(),
        to_field_name="locode",
        error_messages={"invalid_choice": "No such port."},
    )
    shift = forms.ChoiceField(choices=Shift.choices, required=False)
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def clean_shift(self) -> str:
        return self.cleaned_data.get("shift") or Shift.EARLY

    def full_clean(self) -> None:
        super().full_clean()
        # A date the browser mangled is not worth refusing the proposal over: the shift is today's.
        if "date" in self.errors:
            del self.errors["date"]
            self.cleaned_data["date"] = None

    def day(self) -> Any:
        return self.cleaned_data.get("date") or timezone.localdate()


class AcceptProposalForm(ShiftForm):
    """Accepting a proposal: per target ``method-<id>`` (an examination method) and ``instruction-<id>``."""

    proposal = forms.ModelChoiceField(
        queryset=DispatchProposal.objects.none(), error_messages={"invalid_choice": "No such proposal."}
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["proposal"].queryset = DispatchProposal.objects.visible_to(user)  # type: ignore[attr-defined]

    def per_target(self, prefix: str) -> dict[int, str]:
        """``{target id: value}`` of the posted ``<prefix><id>`` fields (a per-row field of the table)."""
        out: dict[int, str] = {}
        for key, value in self.data.items():
            rest = key.removeprefix(prefix)
            if key.startswith(prefix) and rest.isascii() and rest.isdigit() and 0 < int(rest) < 2**63:
                out[int(rest)] = value
        return out


class OperationForm(forms.Form):
    name = forms.CharField(error_messages={"required": "Give the operation a name."})
    starts_at = forms.DateTimeField(
        error_messages={
            "required": "Give a valid start date and time (e.g. 2026-12-03T08:00).",
            "invalid": "Give a valid start date and time (e.g. 2026-12-03T08:00).",
        }
    )
    ends_at = forms.DateTimeField(
        error_messages={
            "required": "Give a valid end date and time (e.g. 2026-12-03T08:00).",
            "invalid": "Give a valid end date and time (e.g. 2026-12-03T08:00).",
        }
    )
    agencies = forms.ModelMultipleChoiceField(queryset=Agency.objects.all(), required=False)
    description = forms.CharField(required=False)


class AddToOperationForm(forms.Form):
    """A target by its reference ("T-12" or "12")."""

    target = forms.CharField(error_messages={"required": "No such target among those you may see."})

    def clean_target(self) -> int:
        ref = self.cleaned_data["target"].strip().upper().removeprefix("T-")
        return int(ref) if ref.isascii() and ref.isdigit() and 0 < int(ref) < 2**63 else 0


__all__ = [
    "AcceptProposalForm",
    "AddToOperationForm",
    "CommentForm",
    "ConsentForm",
    "DispatchForm",
    "HoldForm",
    "MoveForm",
    "NominateForm",
    "OperationForm",
    "ReleaseHoldForm",
    "ShareForm",
    "ShiftForm",
]
