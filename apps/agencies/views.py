"""Reference pages: the directory of agencies and ports, and the people of one's own agency."""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import render

from apps.agencies.models import Agency, ExaminationMethod, Membership, Port, PortCapacity, Shift
from apps.agencies.operations import check
from apps.agencies.scoping import get_object_for
from apps.core.requests import AuthedRequest


@login_required
def directory(request: AuthedRequest) -> HttpResponse:
    check(request.user, "reference.view")
    ports = Port.objects.visible_to(request.user).prefetch_related(
        Prefetch("capacities", queryset=PortCapacity.objects.order_by("shift", "method"))
    )
    agencies = Agency.objects.visible_to(request.user)
    return render(request, "agencies/directory.html", {"ports": ports, "agencies": agencies})


@login_required
def port_detail(request: AuthedRequest, locode: str) -> HttpResponse:
    check(request.user, "reference.view")
    port = get_object_for(request.user, Port, locode=locode)
    capacities = list(port.capacities.order_by("shift", "method"))
    methods = sorted({cap.method for cap in capacities})
    slots = {(cap.shift, cap.method): cap.slots for cap in capacities}
    labels = dict(ExaminationMethod.choices)
    rows = [
        (shift_label, [slots.get((shift, m), 0) for m in methods])
        for shift, shift_label in Shift.choices
        if any((shift, m) in slots for m in methods)
    ]
    context = {"port": port, "methods": [labels[m] for m in methods], "rows": rows}
    return render(request, "agencies/port_detail.html", context)


@login_required
def people(request: AuthedRequest) -> HttpResponse:
    check(request.user, "membership.view")
    members = (
        Membership.objects.visible_to(request.user).select_related("user", "agency").prefetch_related("ports")
    )
    return render(request, "agencies/people.html", {"members": members})
