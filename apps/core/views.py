"""The home page and health endpoint."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.agencies.models import CentreConfiguration
from apps.agencies.operations import membership_of
from apps.compliance.gate import note_results
from apps.core.forms import SignInForm
from apps.core.guidance import FIRST_STEPS
from apps.core.health import readiness
from apps.core.home import panels_for
from apps.core.requests import AuthedRequest
from apps.core.search import run_search


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """What this person acts on now, by role (``apps.core.home``), and two lines of guidance."""
    membership = membership_of(request.user)
    context = {
        "membership": membership,
        "panels": panels_for(request.user),
        "first_steps": FIRST_STEPS.get(membership.role, ()) if membership else (),
        "config": CentreConfiguration.current(),
    }
    return render(request, "core/home.html", context)


@login_required
def search(request: AuthedRequest) -> HttpResponse:
    """The header search (``apps.core.search``). Gated in ``apps.core.urls``: a purpose first, and the
    query with the number of results in the access log."""
    if membership_of(request.user) is None:
        raise PermissionDenied("No membership.")
    outcome = run_search(request.user, request.GET.get("q", ""))
    note_results(request, outcome.total)
    return render(request, "core/search.html", {"outcome": outcome, "query": outcome.query.text})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else (``apps.core.health``)."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, Redis and the broker answer; 503 naming the part that does not."""
    ready, parts = readiness()
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": parts}, status=200 if ready else 503
    )


class LoginView(auth_views.LoginView):
    """Sign-in page; on a demo installation it lists the demo users so a first visit can begin.

    Throttling is django-axes' (settings ``AXES_*``, ``apps.core.security``): it answers a locked-out
    attempt with our own page before this view's form is judged.
    """

    redirect_authenticated_user = True
    authentication_form = SignInForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.RATC_DEMO:
            from apps.core.demo import DEMO_PASSWORD, demo_user_rows

            context.update(demo_users=demo_user_rows(), demo_password=DEMO_PASSWORD)
        return context
