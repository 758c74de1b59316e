"""Pages of the watchlists capability, mounted at /watchlists/."""

from django.urls import path

from apps.compliance.gate import personal_data
from apps.watchlists import views

app_name = "watchlists"

urlpatterns = [
    path("", views.watchlists, name="list"),
    path("screen/", views.screen, name="screen"),
    path("<int:pk>/", views.watchlist_detail, name="detail"),
    path("<int:pk>/import/", views.import_form, name="import"),
    path("entries/<int:pk>/", views.entry_detail, name="entry"),
    path("imports/<int:pk>/", views.import_run, name="import_run"),
    # The hits to rule show each subject (a traveller's name) beside the entry: gated (purpose, log).
    personal_data(path("hits/", views.hits, name="hits"), object_type="watchlist-hit"),
    path("hits/<int:pk>/rule/", views.rule_hit, name="rule_hit"),
]
