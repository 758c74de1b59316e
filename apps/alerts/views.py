"""Pages of the alert exchange: the incoming-alert queue, one alert with its actions, what was sent to
partners (with their sightings), sending a target, and the partners' exchange status. Thin: every change
is a service call (``apps.alerts.services``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.agencies.operations import membership_of
from apps.alerts import services
from apps.alerts.forms import (
    AttachForm,
    ConsentForm,
    DismissForm,
    SendEntryForm,
    SendTargetForm,
    TurnIntoTargetForm,
    WatchlistForm,
)
from apps.alerts.models import IncomingAlert, OutboundObject, Partner, PartnerSighting
from apps.compliance.services import purpose_of
from apps.core.actions import Done, acting_on, cleaned
from apps.core.requests import AuthedRequest


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    return [str(exc)]


@login_required
def queue(request: AuthedRequest) -> HttpResponse:
    """Incoming alerts, new first; a filter by status."""
    services.check_alert(request.user, "alert.view")
    status = request.GET.get("status", "new")
    rows = IncomingAlert.objects.visible_to(request.user).select_related("partner", "target")
    if status in IncomingAlert.Status.values:
        rows = rows.filter(status=status)
    counts = {s: 0 for s in IncomingAlert.Status.values}
    for row in IncomingAlert.objects.visible_to(request.user).values_list("status", flat=True):
        counts[row] += 1
    statuses = [(value, label, counts[value]) for value, label in IncomingAlert.Status.choices]
    return render(
        request, "alerts/queue.html", {"alerts": rows[:200], "status": status, "statuses": statuses}
    )


def _back_to_alert(request: HttpRequest, alert: IncomingAlert) -> str:
    return reverse("alerts:incoming", args=[alert.pk])


#: An action on one incoming alert (``alerts/<pk>/<action>/``), on an alert in the person's scope (else
#: 404); a refusal comes back as a message on the alert's page.
on_alert = acting_on(lambda request, pk: services.get_incoming_for(request.user, pk), _back_to_alert)


@login_required
def incoming(request: AuthedRequest, pk: int) -> HttpResponse:
    """One incoming alert: what the partner sent, its handling, and the analyst's actions (each posting
    to its own URL below)."""
    alert = services.get_incoming_for(request.user, pk)
    from apps.watchlists.services import visible_watchlists

    watchlists = [
        w
        for w in visible_watchlists(request.user)
        if w.owner_agency_id == membership_of(request.user).agency_id
    ]
    return render(
        request,
        "alerts/incoming.html",
        {
            "alert": alert, "props": alert.properties, "watchlists": watchlists,
            "can_act": services.alert_can(request.user, "alert.act"),
            "can_watchlist": services.alert_can(request.user, "alert.watchlist"),
            "can_consent": services.alert_can(request.user, "alert.consent"),
            "sent_back": alert.sightings_sent.all(),
            "candidates": services.candidate_subjects(request.user, alert) if alert.status == "new" else [],
        },
    )  # fmt: skip


@on_alert
def turn_into_target(request: AuthedRequest, alert: IncomingAlert) -> Done:
    data = cleaned(TurnIntoTargetForm(request.POST))
    target = services.turn_into_target(
        actor=request.user, alert=alert, subject_id=data["subject"], reason=data["reason"]
    )
    messages.success(request, f"{target.reference} nominated from {alert.reference}.")
    return redirect("targeting:detail", pk=target.pk)


@on_alert
def attach(request: AuthedRequest, alert: IncomingAlert) -> Done:
    data = cleaned(AttachForm(request.POST))
    services.attach_to_subject(actor=request.user, alert=alert, subject_id=data["subject"])
    return ""


@on_alert
def add_to_watchlist(request: AuthedRequest, alert: IncomingAlert) -> Done:
    data = cleaned(WatchlistForm(request.POST))
    services.add_to_watchlist(actor=request.user, alert=alert, watchlist_id=data["watchlist"])
    return ""


@on_alert
def consent(request: AuthedRequest, alert: IncomingAlert) -> Done:
    data = cleaned(ConsentForm(request.POST))
    services.record_consent(actor=request.user, alert=alert, note=data["note"])
    return ""


@on_alert
def dismiss(request: AuthedRequest, alert: IncomingAlert) -> Done:
    data = cleaned(DismissForm(request.POST))
    services.dismiss(actor=request.user, alert=alert, reason=data["reason"])
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def outbound(request: AuthedRequest) -> HttpResponse:
    """What was sent to partners, with their sightings; a supervisor sends a target from here."""
    services.check_alert(request.user, "alert.view")
    partners = list(Partner.objects.visible_to(request.user).filter(active=True))
    errors: list[str] = []
    form = {"target": request.GET.get("target", ""), "partner": "", "reason": ""}
    if request.method == "POST":
        from apps.targeting.models import Target

        posted = SendTargetForm(request.POST)
        posted.is_valid()  # text fields only: always valid
        form = posted.cleaned_data
        try:
            target = Target.objects.visible_to(request.user).filter(pk=posted.target_pk()).first()
            if target is None:
                raise ValidationError(f"No target {form['target']} that you may see.")
            partner = services.get_partner_for(request.user, posted.partner_pk())
            purpose = purpose_of(request)
            row = services.export_target(
                actor=request.user, target=target, partner=partner, reason=form["reason"],
                **({"purpose": purpose.code} if purpose else {}),
            )  # fmt: skip
            messages.success(request, f"{target.reference} sent to {partner.name} as {row.stix_id}.")
            return redirect("alerts:outbound")
        except (ValidationError, PermissionDenied) as exc:
            errors = _errors(exc)
        except Http404:
            errors = ["No such target or partner."]
    rows = (
        OutboundObject.objects.visible_to(request.user)
        .select_related("partner", "target", "sent_by")
        .prefetch_related("sightings")[:200]
    )
    return render(
        request,
        "alerts/outbound.html",
        {"rows": rows, "partners": partners, "errors": errors, "form": form,
         "can_export": services.alert_can(request.user, "alert.export")},
    )  # fmt: skip


@login_required
@require_POST
def send_entry(request: AuthedRequest, pk: int) -> HttpResponse:
    """A supervisor sends a watchlist entry to a partner as a lookout (from the entry's page)."""
    from apps.watchlists.models import WatchlistEntry

    entry = WatchlistEntry.objects.visible_to(request.user).filter(pk=pk).first()
    if entry is None:
        raise Http404("Not found.")
    form = SendEntryForm(request.POST)
    form.is_valid()  # text fields only: always valid
    try:
        partner = services.get_partner_for(request.user, form.partner_pk())
        purpose = purpose_of(request)
        row = services.export_entry(
            actor=request.user, entry=entry, partner=partner, reason=form.cleaned_data["reason"],
            **({"purpose": purpose.code} if purpose else {}),
        )  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect("watchlists:entry", pk=entry.pk)
    except Http404:
        messages.error(request, "No such partner.")
        return redirect("watchlists:entry", pk=entry.pk)
    messages.success(request, f"Lookout {entry.external_id} sent to {partner.name} as {row.stix_id}.")
    return redirect("alerts:outbound")


@login_required
def partners(request: AuthedRequest) -> HttpResponse:
    """Each partner's exchange status: last push, last poll, last success, the error and the back-off."""
    services.check_alert(request.user, "alert.view")
    rows = Partner.objects.visible_to(request.user).select_related("agency")
    return render(
        request,
        "alerts/partners.html",
        {"partners": rows, "can_sync": services.alert_can(request.user, "alert.export")},
    )


@login_required
@require_POST
def sync(request: AuthedRequest, pk: int) -> HttpResponse:
    """Push to and poll one partner now (a supervisor, when the status shows a failure)."""
    from apps.alerts import client

    partner = services.get_partner_for(request.user, pk)
    services.check_alert(request.user, "alert.export")
    client.exchange(partner)
    partner.refresh_from_db()
    if partner.failures:
        messages.error(request, f"{partner.name}: {partner.last_error}")
    else:
        messages.success(request, f"{partner.name}: exchanged.")
    return redirect("alerts:partners")


def target_sightings(user: Any, target: Any) -> list[PartnerSighting]:
    """The partners' sightings of a target the user may see (the target page's card), for the roles that
    work alerts."""
    if not services.alert_can(user, "alert.view"):
        return []
    return list(PartnerSighting.objects.visible_to(user).filter(target=target).select_related("partner"))


__all__ = [
    "add_to_watchlist",
    "attach",
    "consent",
    "dismiss",
    "incoming",
    "outbound",
    "partners",
    "queue",
    "send_entry",
    "sync",
    "target_sightings",
    "turn_into_target",
]
