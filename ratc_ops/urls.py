"""URL map. Each capability lives in its app's ``urls.py``; the API in ``/api/v1/``."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.agencies import api as agencies_api
from apps.core import views as core_views
from apps.core.metrics import metrics_view
from apps.intake import api as intake_api

router = DefaultRouter()
router.register("agencies", agencies_api.AgencyViewSet, basename="agency")
router.register("ports", agencies_api.PortViewSet, basename="port")
router.register("sources", intake_api.DataSourceViewSet, basename="source")

# Our own error pages everywhere, and JSON instead of a page under /api/ (apps.core.errors).
handler400 = "apps.core.errors.bad_request"
handler403 = "apps.core.errors.permission_denied"
handler404 = "apps.core.errors.page_not_found"
handler500 = "apps.core.errors.server_error"

admin.site.site_header = "RATC Ops administration"
admin.site.site_title = "RATC Ops"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("login/", core_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("apps.accounts.urls")),
    path("search/", include("apps.core.urls")),
    path("reference/", include("apps.agencies.urls")),
    path("data/", include("apps.intake.urls")),
    path("entities/", include("apps.entities.urls")),
    path("targets/", include("apps.targeting.urls")),
    path("risk/", include("apps.risk.urls")),
    path("watchlists/", include("apps.watchlists.urls")),
    path("model/", include("apps.learning.urls")),
    path("port/", include("apps.frontline.urls")),
    path("reports/", include("apps.reports.urls")),
    path("oversight/", include("apps.compliance.urls")),
    path("live/", include("apps.live.urls")),
    path("training/", include("apps.training.urls")),
    path("handover/", include("apps.handover.urls")),
    path("quality/", include("apps.quality.urls")),
    path("", include("apps.alerts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/me/", agencies_api.me, name="api-me"),
    path("api/v1/", include(router.urls)),
    *[
        path("api/v1/", include(f"apps.{app}.api_urls"))
        for app in (
            "intake",
            "watchlists",
            "risk",
            "learning",
            "targeting",
            "frontline",
            "reports",
            "compliance",
            "integrations",
            "alerts",
        )
    ],
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# The personal-data gate on routes whose URL confs mark none themselves (apps.compliance.gate).
