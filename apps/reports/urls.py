"""Report pages, mounted at /reports/."""

from django.urls import path

from apps.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("refresh/", views.refresh, name="refresh"),
    path("effectiveness/", views.effectiveness, name="effectiveness"),
    path("rules/<int:pk>/", views.rule_detail, name="rule"),
    path("statistics/", views.statistics, name="statistics"),
    path("export/", views.export, name="export"),
    path("report.pdf", views.pdf, name="pdf"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:pk>/stop/", views.stop_subscription, name="stop_subscription"),
]
