from django.urls import path  # noqa: F401  (pages are added here)

app_name = "reports"

urlpatterns: list = []
