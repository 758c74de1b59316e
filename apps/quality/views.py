"""Pages of data quality: the carriers ranked, one carrier's figures, a request for missing data.
Thin: ``measure`` computes, ``services`` acts and checks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.agencies.operations import can, check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.errors import form_status
from apps.core.requests import AuthedRequest
from apps.intake.models import DataSource
from apps.quality import measure, services
from apps.quality.feeds import FEEDS
from apps.quality.forms import DataRequestForm
from apps.quality.models import CarrierContact, DataRequest

#: Carriers a page of the ranking shows.
RANKING_PAGE = 50


def _carrier(slug: str) -> str:
    return "" if slug == "-" else slug.upper()


@login_required
def carriers(request: AuthedRequest) -> HttpResponse:
    check(request.user, "quality.view")
    feed = request.GET.get("feed", "")
    feed = feed if feed in FEEDS else ""
    computed = measure.ensure_fresh(request.user)
    # Worst first, a page at a time: a customs declaration feed alone has hundreds of declarants.
    page = Paginator(measure.ranking(request.user, feed=feed), RANKING_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "feeds": FEEDS,
        "feed": feed,
        "weeks": measure.WEEKS,
        "computed_at": computed,
        "may_recompute": can(request.user, "quality.request"),
    }
    return render(request, "quality/carriers.html", context)


@login_required
@require_POST
def recompute(request: AuthedRequest) -> HttpResponse:
    written = services.recompute(actor=request.user)
    messages.success(request, f"Figures recomputed ({written} carrier-weeks).")
    return redirect("quality:carriers")


def _context(request: HttpRequest, source: DataSource, carrier: str, form: DataRequestForm) -> dict:
    figures = measure.carrier_figures(request.user, source, carrier)
    if not figures:
        raise Http404("No figures for this carrier.")
    membership = membership_of(request.user)
    return {
        "source": source,
        "carrier": carrier,
        "slug": carrier or "-",
        "figures": figures,
        "movements": services.missing_by_movement(source, carrier),
        "requests": DataRequest.objects.visible_to(request.user).filter(source=source, carrier=carrier)[:10],
        "form": form,
        "may_request": can(request.user, "quality.request")
        and membership.agency_id == source.owner_agency_id,
    }


@login_required
def carrier(request: AuthedRequest, source_pk: int, carrier: str) -> HttpResponse:
    check(request.user, "quality.view")
    source = get_object_for(request.user, DataSource, pk=source_pk)
    code = _carrier(carrier)
    contact = CarrierContact.objects.visible_to(request.user).filter(source=source, carrier=code).first()
    form = DataRequestForm(
        initial={
            "contact_name": contact.name if contact else code,
            "contact_email": contact.email if contact else "",
            "due_by": DataRequestForm.default_due(timezone.localdate()),
        }
    )
    return render(request, "quality/carrier.html", _context(request, source, code, form))


@login_required
@require_POST
def request_data(request: AuthedRequest, source_pk: int, carrier: str) -> HttpResponse:
    check(request.user, "quality.view")
    source = get_object_for(request.user, DataSource, pk=source_pk)
    code = _carrier(carrier)
    form = DataRequestForm(request.POST)
    if form.is_valid():
        try:
            sent = services.send_data_request(
                actor=request.user, source=source, carrier=code, **form.cleaned_data
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, f"Request sent to {sent.sent_to}, due {sent.due_by:%d %b %Y}.")
            return redirect("quality:carrier", source_pk=source.pk, carrier=code or "-")
    context = _context(request, source, code, form)
    return render(request, "quality/carrier.html", context, status=form_status(request, form))
