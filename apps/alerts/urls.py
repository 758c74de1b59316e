"""Pages of the alert exchange (``/alerts/``) and the TAXII 2.1 server (``/taxii2/``)."""

from django.urls import path

from apps.alerts import taxii, views
from apps.compliance.gate import personal_data

app_name = "alerts"

urlpatterns = [
    path("alerts/", views.queue, name="queue"),
    # An incoming alert may carry a traveller's identity (where the sender's law allows).
    personal_data(
        path("alerts/<int:pk>/", views.incoming, name="incoming"),
        object_type="incoming_alert",
        model="alerts.IncomingAlert",
        subject="subject",
    ),
    # Each action on an incoming alert is a POST to its own URL (gated as the alert's page is).
    *[
        personal_data(
            path(f"alerts/<int:pk>/{route}/", view, name=f"incoming-{route}"),
            object_type="incoming_alert",
            model="alerts.IncomingAlert",
            subject="subject",
        )
        for route, view in (
            ("target", views.turn_into_target),
            ("attach", views.attach),
            ("watchlist", views.add_to_watchlist),
            ("consent", views.consent),
            ("dismiss", views.dismiss),
        )
    ],
    path("alerts/sent/", views.outbound, name="outbound"),
    path("alerts/partners/", views.partners, name="partners"),
    path("alerts/partners/<int:pk>/sync/", views.sync, name="sync"),
    path("alerts/lookouts/<int:pk>/send/", views.send_entry, name="send-entry"),
    path("taxii2/", taxii.Discovery.as_view(), name="taxii-discovery"),
    path("taxii2/api/", taxii.ApiRoot.as_view(), name="taxii-root"),
    path("taxii2/api/collections/", taxii.Collections.as_view(), name="taxii-collections"),
    path(
        "taxii2/api/collections/<uuid:collection_id>/",
        taxii.CollectionDetail.as_view(),
        name="taxii-collection",
    ),
    path(
        "taxii2/api/collections/<uuid:collection_id>/objects/", taxii.Objects.as_view(), name="taxii-objects"
    ),
    path(
        "taxii2/api/collections/<uuid:collection_id>/objects/<str:object_id>/",
        taxii.ObjectDetail.as_view(),
        name="taxii-object",
    ),
    path(
        "taxii2/api/collections/<uuid:collection_id>/manifest/",
        taxii.Manifest.as_view(),
        name="taxii-manifest",
    ),
    path("taxii2/api/status/<uuid:status_id>/", taxii.Status.as_view(), name="taxii-status"),
]
