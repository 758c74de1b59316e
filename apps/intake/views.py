"""Pages for data sources."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.agencies.operations import check
from apps.agencies.scoping import get_object_for
from apps.intake.models import DataSource
from apps.intake.services import shared_with


@login_required
def sources(request: HttpRequest) -> HttpResponse:
    check(request.user, "source.view")
    rows = DataSource.objects.visible_to(request.user).select_related("owner_agency")
    return render(request, "intake/sources.html", {"sources": rows})


@login_required
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_for(request.user, DataSource.objects.select_related("owner_agency"), pk=pk)
    check(request.user, "source.view", source)
    is_owner = source.owner_agency_id == request.membership.agency_id
    context = {"source": source, "shared_with": shared_with(source) if is_owner else None}
    return render(request, "intake/source_detail.html", context)
